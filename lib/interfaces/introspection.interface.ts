/**
 * An introspection answer (RFC 7662 §2.2), as the authorization server sent it. Parsed once and
 * frozen: the same object may be shared by cached requests, so it must not be changed.
 */
export interface IntrospectionPayload {
  readonly active?: unknown;
  readonly scope?: unknown;
  readonly client_id?: unknown;
  readonly username?: unknown;
  readonly token_type?: unknown;
  readonly exp?: unknown;
  readonly iat?: unknown;
  readonly nbf?: unknown;
  readonly sub?: unknown;
  readonly aud?: unknown;
  readonly iss?: unknown;
  readonly jti?: unknown;
  readonly [claim: string]: unknown;
}

/** What a resource found out about a token. */
export interface IntrospectionResult {
  /** Whether the server says the token is active (by the resource's own rule). */
  readonly active: boolean;
  /** The parsed, frozen answer. */
  readonly payload: IntrospectionPayload;
}

/**
 * The attributes the guard attaches to an allowed request, with the policy's names. Read them with
 * the parameter decorators, or with `getOAuth2Attributes(request)`.
 */
export interface OAuth2RequestAttributes {
  /** The access token taken from the request. */
  'oauth.access_token'?: string;
  /** The introspection payload; only with `extractPayload`. */
  'oauth.payload'?: IntrospectionPayload;
  /** The client: `client_id`, else `aud` (a string, or the first element of an array). */
  'oauth.client_id'?: string;
  /** The user: the resource's `userClaim` (default `sub`). */
  user?: string;
  /** The token's scopes. */
  'user.roles'?: readonly string[];
  /**
   * `true` when the payload was served stale: from a cache entry past its freshness, because the
   * authorization server was unavailable (the cache's `staleIfErrorSeconds`). Absent otherwise.
   */
  'oauth.stale'?: true;
}
