import { IncomingMessage } from 'node:http';
import { inspect } from 'node:util';
import type { VerifiedDpopProof } from '../dpop/dpop-proof';
import type { IntrospectionPayload, OAuth2RequestAttributes } from '../interfaces/introspection.interface';

/**
 * Where a request keeps its state: a symbol-keyed property, which neither `Object.keys()`, `for...in`
 * nor `JSON.stringify()` sees. On Node's own message (Express's request), on its `rawHeaders` array;
 * beside the carrier, in {@link STATES}, for carriers that cannot take a property.
 *
 * Measured (bench: the interleaved server time, and the guard's own time per request): on Fastify's
 * request, whose hidden class is the same from one request to the next, the property costs less than
 * a `WeakMap` entry. Express's request reaches the guard with a hidden class of its own on every request
 * (V8's `%DebugPrint`; Fastify's request and its raw message keep one), so each property read or added
 * there is a slow look-up that no inline cache can keep: reading a missing property and adding one cost
 * about 5 µs a request with the CPU's caches cold. A `WeakMap` entry cost half of that in the guard,
 * and as much again after it: the table lives in the old generation and its keys are young, so every
 * entry takes V8's slow write barrier and every scavenge walks the table (the interleaved ratio on
 * Express was 0.943 with it, 0.961 without). Node's `rawHeaders` array is one per message, made by
 * Node's parser with the same hidden class every time, and dies with the message: a property there
 * is an ordinary, cached transition.
 */
const STATE = Symbol('oauth2.requestState');
/** Where a state keeps its carrier (see {@link OAuth2RequestState.belongsTo}). */
const CARRIER = Symbol('oauth2.requestState.carrier');

/** The states kept beside their carriers: carriers that cannot take a property (frozen or sealed objects). */
const STATES = new WeakMap<object, OAuth2RequestState>();
/**
 * Whether {@link STATES} ever held a state: until then a carrier without a state of its own has none,
 * and the look-up there (which hashes the carrier) is skipped on every request.
 */
let statesBeside = false;

/** A carrier of state: a request, a gateway's client, a message's context, a Node message's raw headers. */
interface StateCarrier {
  [STATE]?: OAuth2RequestState;
}

/** Where a carrier's state goes: a Node message's raw headers (see {@link STATE}), else the carrier itself. */
function holderOf(carrier: object): StateCarrier {
  if (carrier instanceof IncomingMessage) {
    const rawHeaders: unknown = carrier.rawHeaders;
    if (Array.isArray(rawHeaders)) {
      return rawHeaders as StateCarrier;
    }
  }
  return carrier as StateCarrier;
}

/** A payload, or the introspection under way that will give it. */
type Introspection = IntrospectionPayload | Promise<IntrospectionPayload>;

/**
 * What the guard keeps on a request: its attributes, and the introspections under way or done, by
 * resource name, so that a request is introspected once even when the guard runs twice. Nearly every
 * request meets one resource: its introspection has fields of its own, and only a second resource
 * costs a `Map`.
 */
export class OAuth2RequestState {
  // Every field is declared, then set in the constructor in one order: no class-field initializer,
  // which V8 runs as a function of its own on every `new` (a call, and its code, on the hit path).
  declare readonly attributes: OAuth2RequestAttributes;
  /** The request's DPoP proof, once verified: the token came with the DPoP scheme (RFC 9449). */
  declare dpopProof?: VerifiedDpopProof;
  declare private firstResource?: string;
  declare private firstIntrospection?: Introspection;
  declare private otherIntrospections?: Map<string, Introspection>;
  /** The object whose state this is: found through the object's raw headers, or inherited, it tells the owner apart. */
  declare private readonly [CARRIER]: object | undefined;

  /** @param carrier the request (or the transport's object) this state belongs to. */
  constructor(carrier?: object) {
    this.attributes = {};
    this.dpopProof = undefined;
    this.firstResource = undefined;
    this.firstIntrospection = undefined;
    this.otherIntrospections = undefined;
    this[CARRIER] = carrier;
  }

  /** Whether this is the state of that carrier, rather than of an object it was made from. */
  belongsTo(carrier: object): boolean {
    return this[CARRIER] === carrier;
  }

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

  /**
   * What `console.log(request)` and `util.inspect()` show of it: never the token. The state is a
   * property of the request, and a request is the object most often logged whole.
   */
  [inspect.custom](): string {
    return `OAuth2RequestState { ${Object.keys(this.attributes).join(', ')} }`;
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
  // The holder once: on Express's request, reading `rawHeaders` is a slow look-up on every request.
  // holderOf() by hand, and a request's first state set here: the guard's hit path calls this once a
  // request, and each function it calls is code fetched cold (measured with perf on Express).
  let holder = request as StateCarrier;
  if (request instanceof IncomingMessage) {
    const rawHeaders: unknown = request.rawHeaders;
    if (Array.isArray(rawHeaders)) {
      holder = rawHeaders as StateCarrier;
    }
  }
  if (holder[STATE] === undefined && !statesBeside) {
    const state = new OAuth2RequestState(request);
    try {
      holder[STATE] = state;
      return state;
    } catch {
      // A carrier that takes no property: kept beside it, below.
    }
  }
  return stateIn(holder, request) ?? keep(holder, request, new OAuth2RequestState(request));
}

/**
 * A new state for a call, replacing the one its carrier had: for carriers that outlive one call, such as
 * a gateway's client, whose messages are each checked afresh.
 */
export function freshRequestState(carrier: object): OAuth2RequestState {
  return keep(holderOf(carrier), carrier, new OAuth2RequestState(carrier));
}

function keep(holder: StateCarrier, carrier: object, state: OAuth2RequestState): OAuth2RequestState {
  const held = holder[STATE];
  // Not over the state of the object this one was made from (which it sees through inheritance).
  if (held === undefined || held.belongsTo(carrier)) {
    try {
      holder[STATE] = state;
      return state;
    } catch {
      // A carrier that takes no property (frozen, sealed, a proxy that refuses): this module is strict
      // code, where the assignment throws. Cheaper than asking `Object.isExtensible()` first, a call
      // into V8's runtime on every request (measured with perf on Fastify).
    }
  }
  statesBeside = true;
  STATES.set(carrier, state);
  return state;
}

function stateOf(carrier: object): OAuth2RequestState | undefined {
  return stateIn(holderOf(carrier), carrier);
}

function stateIn(holder: StateCarrier, carrier: object): OAuth2RequestState | undefined {
  const state = holder[STATE];
  // The carrier's own only: an object made with Object.create(request) is another call, with a state
  // of its own, although it inherits the request's properties (and its raw headers).
  if (state !== undefined && state.belongsTo(carrier)) {
    return state;
  }
  return statesBeside ? STATES.get(carrier) : undefined;
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
  return stateOf(request)?.attributes ?? {};
}
