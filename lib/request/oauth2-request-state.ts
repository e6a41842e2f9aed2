import type { IntrospectionPayload, OAuth2RequestAttributes } from '../interfaces/introspection.interface';

/**
 * Each request's state, beside the request rather than on it: a property added to Node's or
 * Fastify's request object changes its hidden class, which slows every later property access on
 * requests, in the framework's code too.
 */
const STATES = new WeakMap<object, OAuth2RequestState>();

/** What the guard keeps on a request: its attributes, and introspections under way or done. */
export interface OAuth2RequestState {
  readonly attributes: OAuth2RequestAttributes;
  /** By resource name: so a request is introspected once even when the guard runs twice. */
  readonly introspections: Map<string, IntrospectionPayload | Promise<IntrospectionPayload>>;
}

/** The guard's state on a request, created on first use. */
export function requestState(request: object): OAuth2RequestState {
  let state = STATES.get(request);
  if (!state) {
    state = { attributes: {}, introspections: new Map() };
    STATES.set(request, state);
  }
  return state;
}

/**
 * The attributes the guard attached to a request (`oauth.access_token`, `oauth.payload`,
 * `oauth.client_id`, `user`, `user.roles`), for code that has the request rather than a handler
 * parameter, such as an interceptor. Empty for a request the guard did not see.
 *
 * @example
 * const clientId = getOAuth2Attributes(request)['oauth.client_id'];
 */
export function getOAuth2Attributes(request: object): Readonly<OAuth2RequestAttributes> {
  return STATES.get(request)?.attributes ?? {};
}
