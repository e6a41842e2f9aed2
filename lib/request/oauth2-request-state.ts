import type { VerifiedDpopProof } from '../dpop/dpop-proof';
import type { IntrospectionPayload, OAuth2RequestAttributes } from '../interfaces/introspection.interface';

/**
 * Each request's state, beside the request rather than on it: a property added to Node's or
 * Fastify's request object changes its hidden class, which slows every later property access on
 * requests, in the framework's code too.
 */
const STATES = new WeakMap<object, OAuth2RequestState>();

/** A payload, or the introspection under way that will give it. */
type Introspection = IntrospectionPayload | Promise<IntrospectionPayload>;

/**
 * What the guard keeps on a request: its attributes, and the introspections under way or done, by
 * resource name, so that a request is introspected once even when the guard runs twice. Nearly every
 * request meets one resource: its introspection has fields of its own, and only a second resource
 * costs a `Map`.
 */
export class OAuth2RequestState {
  readonly attributes: OAuth2RequestAttributes = {};
  /** The request's DPoP proof, once verified: the token came with the DPoP scheme (RFC 9449). */
  dpopProof?: VerifiedDpopProof;
  private firstResource?: string;
  private firstIntrospection?: Introspection;
  private otherIntrospections?: Map<string, Introspection>;

  /** The resource the token was first introspected (or looked up) at, for the audit hook; none before. */
  get resourceName(): string | undefined {
    return this.firstResource;
  }

  /** The introspection of the token at a resource, if this request already started one. */
  introspection(resourceName: string): Introspection | undefined {
    if (this.firstResource === resourceName) {
      return this.firstIntrospection;
    }
    return this.otherIntrospections?.get(resourceName);
  }

  /** Keeps the introspection of the token at a resource, for the rest of this request. */
  remember(resourceName: string, introspection: Introspection): void {
    if (this.firstResource === undefined) {
      this.firstResource = resourceName;
      this.firstIntrospection = introspection;
    } else {
      (this.otherIntrospections ??= new Map()).set(resourceName, introspection);
    }
  }
}

/** The guard's state on a request, created on first use. */
export function requestState(request: object): OAuth2RequestState {
  let state = STATES.get(request);
  if (!state) {
    state = new OAuth2RequestState();
    STATES.set(request, state);
  }
  return state;
}

/**
 * A new state for a call, replacing the one its carrier had: for carriers that outlive one call, such as
 * a gateway's client, whose messages are each checked afresh.
 */
export function freshRequestState(carrier: object): OAuth2RequestState {
  const state = new OAuth2RequestState();
  STATES.set(carrier, state);
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
