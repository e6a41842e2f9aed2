import type { IntrospectionPayload, OAuth2RequestAttributes } from '../interfaces/introspection.interface';

const STATE = Symbol('oauth2.request-state');

/** What the guard keeps on a request: its attributes, and introspections under way or done. */
export interface OAuth2RequestState {
  readonly attributes: OAuth2RequestAttributes;
  /** By resource name: so a request is introspected once even when the guard runs twice. */
  readonly introspections: Map<string, IntrospectionPayload | Promise<IntrospectionPayload>>;
}

type WithState = { [STATE]?: OAuth2RequestState };

/** The guard's state on a request, created on first use. */
export function requestState(request: object): OAuth2RequestState {
  const holder = request as WithState;
  let state = holder[STATE];
  if (!state) {
    state = { attributes: {}, introspections: new Map() };
    holder[STATE] = state;
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
  return (request as WithState)[STATE]?.attributes ?? {};
}
