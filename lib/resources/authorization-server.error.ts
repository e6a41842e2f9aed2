import { type OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';

/** The two keys an authorization server's failure maps to. */
export type AuthorizationServerErrorKey =
  OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE | OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE;

/**
 * An introspection or userinfo call that did not produce an answer: the server could not be reached,
 * timed out, answered with an error status, or answered something that is not valid.
 *
 * Its message is safe to log: it holds the resource's name and a short reason, never the token, a
 * secret or the server's answer.
 */
export class AuthorizationServerError extends Error {
  constructor(
    /** The error key the guard rejects the request with. */
    readonly key: AuthorizationServerErrorKey,
    /** The resource's name. */
    readonly resource: string,
    /** Why, in a few words, e.g. `timed out after 5000 ms` or `answered HTTP 503`. */
    readonly reason: string,
    /** The server's own `Retry-After`, in seconds, when it answered 429 or 503 with one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`authorization server of resource '${resource}' ${reason}`);
    this.name = 'AuthorizationServerError';
  }
}
