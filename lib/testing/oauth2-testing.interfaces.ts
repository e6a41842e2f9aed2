/** What {@link OAuth2TestingServer.issueToken} puts in the token's introspection answer. */
export interface OAuth2TestingTokenOptions {
  /** The token's scopes: a list, or one space-separated string. Default: none (no `scope` claim). */
  scope?: string | readonly string[];
  /** The `client_id` claim: the client the token was issued to. Default `test-client`. */
  clientId?: string;
  /** The `sub` claim: the user (resource owner). Default: none. */
  sub?: string;
  /** The `aud` claim: the resources the token is meant for. Default: none. */
  aud?: string | readonly string[];
  /** The `iss` claim. Default: the server's own URL (`http://127.0.0.1:<port>`). */
  iss?: string;
  /**
   * Seconds from now to the token's expiry (`exp`). Default 3600. Zero or less issues a token that has
   * already expired, which the server reports inactive.
   */
  expiresInSeconds?: number;
  /** False issues a token the server reports inactive (`{ "active": false }`) from the start. Default true. */
  active?: boolean;
  /**
   * More claims for the answer (e.g. `username` for a resource whose `userClaim` names it). They cannot
   * replace `active`, `exp` or `iat`.
   */
  claims?: Readonly<Record<string, unknown>>;
}

/** Options of {@link OAuth2TestingServer.start}. */
export interface OAuth2TestingServerOptions {
  /** The client id the protected resource authenticates with at the introspection endpoint. Default `test-resource-server`. */
  clientId?: string;
  /** Its secret. Default: random, new for each server. */
  clientSecret?: string;
}

/** One request the server received at its introspection endpoint (never the token itself). */
export interface OAuth2TestingIntrospection {
  /** How the caller authenticated: a Basic header, form fields (`client_secret_post`), or not at all. */
  clientAuthentication: 'basic' | 'post' | 'none';
  /** The client id the caller presented, if any. */
  clientId?: string;
  /** The status the server answered: 200, or 400 / 401 for a bad request or bad client credentials. */
  status: number;
  /** The `active` of the answer; false for a refused request too. */
  active: boolean;
  /** The `token_type_hint` sent, if any. */
  tokenTypeHint?: string;
}
