import type { ExecutionContext } from '@nestjs/common';

/**
 * A resource name, or a function that picks one per request (the counterpart of the gateway's
 * expression language), e.g. a tenant's authorization server chosen from the host name.
 * A function that returns `undefined` or an unregistered name rejects with `OAUTH2_MISSING_SERVER`.
 */
export type OAuth2ResourceSelector = string | ((context: ExecutionContext) => string | undefined);

/**
 * The `oauth2` policy's configuration, with Gravitee's names. `forRoot({ policy })` sets the default
 * for every guarded route; `@OAuth2Policy()` and `@RequiredScopes()` override it per controller or handler.
 */
export interface OAuth2PolicyOptions {
  /** The authorization-server resource that introspects the token. Required (here or on the route). */
  oauthResource?: OAuth2ResourceSelector;
  /**
   * The cache resource that keeps introspection answers. Default: no cache. `false` turns off, for a
   * controller or handler, a cache the module's policy names.
   */
  oauthCacheResource?: OAuth2ResourceSelector | false;
  /** Make the introspection payload available to the handler (`@OAuth2Payload()`). Default false. */
  extractPayload?: boolean;
  /** Check `requiredScopes`. Default false; `@RequiredScopes()` turns it on for its route. */
  checkRequiredScopes?: boolean;
  /** The scopes the route requires. Default none. */
  requiredScopes?: string[];
  /** true: every required scope must be held; false: any one is enough. Default true. */
  modeStrict?: boolean;
  /** Keep the `Authorization` header for the handler. false removes it once the request is allowed. Default true. */
  propagateAuthHeader?: boolean;
  /**
   * Also accept the token from the `access_token` query parameter (RFC 6750 §2.3) when there is no
   * Bearer header. Default false: tokens in URLs leak into logs.
   */
  allowAccessTokenQueryParam?: boolean;
  /** Tolerance, in seconds, for clock differences when checking `exp` and `nbf`. Default 5. */
  clockToleranceSeconds?: number;
  /**
   * The token's `aud` (a string or an array) must contain one of these, else `OAUTH2_INVALID_ACCESS_TOKEN`
   * (RFC 8707: a token issued for another resource is refused). Default: `[protectedResource.resource]`
   * when the module has `protectedResource`, else not checked. `false` turns the check off (for a route,
   * or for the module when `protectedResource` is set).
   */
  audiences?: string[] | false;
  /** The token's `iss` must be one of these, else `OAUTH2_INVALID_ACCESS_TOKEN`. Default `false`: not checked. */
  issuers?: string[] | false;
  /**
   * DPoP (RFC 9449): `'allowed'` (default) accepts `Authorization: DPoP` with a proof beside Bearer;
   * `'required'` refuses Bearer; `'off'` does not read the DPoP scheme. In every mode a token bound
   * to a key (`cnf.jkt`) is refused as Bearer. See docs/dpop.md.
   */
  dpop?: OAuth2DpopMode;
  /** The JWS algorithms a DPoP proof may use. Default: every asymmetric one (ES256/384/512, EdDSA, PS256/384/512, RS256/384/512). */
  dpopAlgorithms?: OAuth2DpopAlgorithm[];
  /**
   * Server nonces in DPoP proofs (RFC 9449 §9): `true`, or `{ secret, lifetimeSeconds }`. A proof
   * without the current nonce gets 401 `use_dpop_nonce` and a `DPoP-Nonce` header. A fleet of
   * instances needs the same `secret` on each. Default `false`.
   */
  dpopNonces?: boolean | OAuth2DpopNonceOptions;
  /**
   * RFC 8705: refuse tokens that are not certificate-bound (no `cnf["x5t#S256"]` in the introspection
   * answer) with `OAUTH2_INVALID_ACCESS_TOKEN`. A bound token is checked against the request's client
   * certificate whatever this says. Default false.
   */
  requireCertificateBinding?: boolean;
}

/** How the guard treats DPoP (RFC 9449): see {@link OAuth2PolicyOptions.dpop}. */
export type OAuth2DpopMode = 'off' | 'allowed' | 'required';

/** A JWS algorithm a DPoP proof may be signed with. */
export type OAuth2DpopAlgorithm =
  'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'PS256' | 'PS384' | 'PS512' | 'RS256' | 'RS384' | 'RS512';

/** Server nonces of DPoP proofs (`policy.dpopNonces`). */
export interface OAuth2DpopNonceOptions {
  /**
   * The HMAC secret nonces are made with, at least 32 characters, the same on every instance of a
   * fleet. Default: a random secret per process (one instance only).
   */
  secret?: string;
  /** How long a nonce is handed out, in seconds (it stays good one more period). 10 to 3600; default 300. */
  lifetimeSeconds?: number;
}

/** The policy after defaults: what the guard applies to one route. */
export interface ResolvedOAuth2Policy {
  readonly oauthResource?: OAuth2ResourceSelector;
  readonly oauthCacheResource?: OAuth2ResourceSelector | false;
  readonly extractPayload: boolean;
  readonly checkRequiredScopes: boolean;
  readonly requiredScopes: readonly string[];
  readonly modeStrict: boolean;
  readonly propagateAuthHeader: boolean;
  readonly allowAccessTokenQueryParam: boolean;
  readonly clockToleranceSeconds: number;
  readonly audiences: readonly string[] | false;
  readonly issuers: readonly string[] | false;
  /** Default `'allowed'`. */
  readonly dpop?: OAuth2DpopMode;
  /** Default: every algorithm of {@link OAuth2DpopAlgorithm}. */
  readonly dpopAlgorithms?: readonly OAuth2DpopAlgorithm[];
  /** Default `false`. */
  readonly dpopNonces?: boolean | OAuth2DpopNonceOptions;
  readonly requireCertificateBinding: boolean;
}
