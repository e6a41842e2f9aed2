/**
 * The error keys of the `oauth2` policy. Each rejected request carries exactly one, in the
 * `key` of the {@link OAuth2Exception} and of the default response body; response templates
 * are chosen by it.
 *
 * @example
 * if (exception.key === OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE) { ... }
 */
export enum OAuth2ErrorKey {
  /** No authorization-server resource could be chosen for the request. */
  OAUTH2_MISSING_SERVER = 'OAUTH2_MISSING_SERVER',
  /** The request has no `Authorization: Bearer` header. */
  OAUTH2_MISSING_HEADER = 'OAUTH2_MISSING_HEADER',
  /** The `Authorization` header names the Bearer scheme but holds no token. */
  OAUTH2_MISSING_ACCESS_TOKEN = 'OAUTH2_MISSING_ACCESS_TOKEN',
  /** The authorization server says the token is not active, or the token has expired or is not yet valid. */
  OAUTH2_INVALID_ACCESS_TOKEN = 'OAUTH2_INVALID_ACCESS_TOKEN',
  /** The authorization server answered 200 with something that is not a valid RFC 7662 answer. */
  OAUTH2_INVALID_SERVER_RESPONSE = 'OAUTH2_INVALID_SERVER_RESPONSE',
  /** The token does not hold the scopes the route requires. */
  OAUTH2_INSUFFICIENT_SCOPE = 'OAUTH2_INSUFFICIENT_SCOPE',
  /** The authorization server could not be reached, timed out, or answered with an error status. */
  OAUTH2_SERVER_UNAVAILABLE = 'OAUTH2_SERVER_UNAVAILABLE',
}

/** Every error key, in the order of the policy's documentation. */
export const OAUTH2_ERROR_KEYS: readonly OAuth2ErrorKey[] = Object.values(OAuth2ErrorKey);
