import type { ArgumentsHost, ExecutionContext } from '@nestjs/common';
import { IncomingMessage } from 'node:http';
import { isBearerValue } from '../guards/bearer-token';
import type { GuardedRequest } from '../request/http-request';

/**
 * Where a rejection's token came from outside plain HTTP, as a function of the execution context:
 * the value of an `Authorization` header (`Bearer <token>`), or `undefined` when the call carries none.
 */
export type OAuth2TokenExtractor = (context: ExecutionContext) => string | undefined;

/** The token extractors of the transports other than HTTP, each replacing the default of its transport. */
export interface OAuth2TokenExtractors {
  /**
   * GraphQL. Default: the HTTP request behind the operation (its `Authorization` header, and the
   * `access_token` query parameter where the policy allows it); for a subscription over `graphql-ws`,
   * the `connection_init` payload's `Authorization` (or `authorization`) value.
   */
  readonly graphql?: OAuth2TokenExtractor;
  /**
   * WebSocket gateways. Default: the handshake's `Authorization` header, then (socket.io) the
   * handshake's `auth.token`, with or without the `Bearer ` prefix. With the `ws` adapter, the handshake
   * is known only to a gateway that hands it to `OAuth2ConnectionAuthenticator.authenticateConnection()`
   * in `handleConnection()`.
   */
  readonly ws?: OAuth2TokenExtractor;
  /**
   * Microservices. Default: the message's `authorization` member (`{ authorization: 'Bearer <token>', ...data }`);
   * with gRPC, the call metadata's `authorization`.
   */
  readonly rpc?: OAuth2TokenExtractor;
}

/**
 * What the guard reads a call's token from, and what its state hangs on. An HTTP request (a route's,
 * or the one behind a GraphQL query or mutation) is both. Elsewhere `request` is made up of the value
 * the transport carries, and the state hangs on an object of the call that the parameter decorators
 * see as well: the GraphQL context of a subscription, the gateway's client, the microservice's context.
 */
export interface GuardedCall {
  readonly request: GuardedRequest;
  readonly carrier: object;
  /** A request made up from the transport's value (no URL, no query, nothing to strip). */
  readonly synthetic: boolean;
}

/** A request object of Express or Fastify: what the HTTP path of the guard reads. */
export function isHttpRequest(value: unknown): value is GuardedRequest {
  // Node's message first (Express's request): `instanceof` reads prototypes only, where a property read
  // on Express's request costs a slow look-up (each request has a hidden class of its own). Then
  // Fastify's request, by its own `raw` message: `rawHeaders` is not there, and `headers` is a getter.
  return (
    value instanceof IncomingMessage ||
    (typeof value === 'object' &&
      value !== null &&
      ((value as GuardedRequest).raw instanceof IncomingMessage ||
        Array.isArray((value as GuardedRequest).rawHeaders) ||
        typeof (value as GuardedRequest).headers === 'object'))
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The HTTP request behind a GraphQL operation: `req` of the context (Nest's Apollo driver sets it, on
 * Express and Fastify), Mercurius's `reply.request`, or `request`.
 */
function graphqlHttpRequest(graphqlContext: Record<string, unknown>): GuardedRequest | undefined {
  const candidates = [graphqlContext.req, (graphqlContext.reply as { request?: unknown } | undefined)?.request];
  candidates.push(graphqlContext.request);
  return candidates.find(isHttpRequest);
}

/**
 * The `connection_init` payload of a subscription's connection: graphql-ws's context, which Nest's
 * Apollo driver passes as `req`, or a context that holds it under `connectionParams` (as Mercurius's
 * `onConnect` result may).
 */
function connectionParamsOf(graphqlContext: Record<string, unknown>): Record<string, unknown> | undefined {
  const holders = [graphqlContext.req, graphqlContext.extra, graphqlContext];
  for (const holder of holders) {
    if (isObject(holder) && isObject(holder.connectionParams)) {
      return holder.connectionParams;
    }
  }
  return undefined;
}

/** `Authorization` (or `authorization`) of a `connection_init` payload, when a string. */
export function authorizationOfConnectionParams(params: Record<string, unknown> | undefined): string | undefined {
  const value = params?.Authorization ?? params?.authorization;
  return typeof value === 'string' ? value : undefined;
}

/**
 * socket.io's handshake: the `Authorization` header, else `auth.token` (a bare token is given the
 * `Bearer` scheme; a value that has it already is taken as it is).
 */
export function authorizationOfSocketIoHandshake(client: unknown): string | undefined {
  const handshake = isObject(client) ? client.handshake : undefined;
  if (!isObject(handshake)) {
    return undefined;
  }
  const header = isObject(handshake.headers) ? handshake.headers.authorization : undefined;
  if (typeof header === 'string') {
    return header;
  }
  const token = isObject(handshake.auth) ? handshake.auth.token : undefined;
  if (typeof token !== 'string') {
    return undefined;
  }
  return isBearerValue(token) ? token : `Bearer ${token}`;
}

/** The `Authorization` values recorded at the handshake of `ws` clients (the `ws` adapter keeps no request). */
const handshakeAuthorizations = new WeakMap<object, string | undefined>();

/** Records the `Authorization` header of a `ws` client's handshake, for its messages. */
export function recordHandshakeAuthorization(client: object, authorization: string | undefined): void {
  handshakeAuthorizations.set(client, authorization);
}

/** The default of {@link OAuth2TokenExtractors.ws}. */
export function defaultWsAuthorization(client: unknown): string | undefined {
  if (isObject(client) && isObject(client.handshake)) {
    return authorizationOfSocketIoHandshake(client);
  }
  return isObject(client) ? handshakeAuthorizations.get(client) : undefined;
}

/** The default of {@link OAuth2TokenExtractors.rpc}: `data.authorization`, or gRPC metadata's. */
export function defaultRpcAuthorization(data: unknown, rpcContext: unknown): string | undefined {
  if (isObject(data) && typeof data.authorization === 'string') {
    return data.authorization;
  }
  const metadata = rpcContext as { get?: unknown } | undefined;
  if (isObject(metadata) && typeof metadata.get === 'function') {
    const [value] = (metadata.get as (key: string) => unknown[])('authorization');
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/** A request made up from a transport's `Authorization` value. */
function syntheticRequest(authorization: string | undefined): GuardedRequest {
  return { headers: authorization === undefined ? {} : { authorization } };
}

/**
 * The object that a call's guard state hangs on, for the guard and for the parameter decorators
 * alike; `undefined` for a context the guard does not know.
 */
export function carrierOf(context: ArgumentsHost): object | undefined {
  switch (context.getType<string>()) {
    case 'http': {
      const request = context.getArgByIndex<unknown>(0);
      return isObject(request) ? request : undefined;
    }
    case 'graphql': {
      const graphqlContext = context.getArgByIndex<unknown>(2);
      if (!isObject(graphqlContext)) {
        return undefined;
      }
      return graphqlHttpRequest(graphqlContext) ?? graphqlContext;
    }
    case 'ws': {
      const client = context.getArgByIndex<unknown>(0);
      return isObject(client) ? client : undefined;
    }
    case 'rpc': {
      // The transport's context (TcpContext, gRPC metadata, ...) is made for each message; the data
      // when there is no context object.
      const rpcContext = context.getArgByIndex<unknown>(1);
      const data = context.getArgByIndex<unknown>(0);
      return isObject(rpcContext) ? rpcContext : isObject(data) ? data : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The call of a context outside plain HTTP: where its token is, and what its state hangs on.
 * `undefined` when the context has nothing the guard can hang a state on (then it cannot be allowed).
 */
export function guardedCallOf(context: ExecutionContext, extractors: OAuth2TokenExtractors): GuardedCall | undefined {
  const type = context.getType<string>();
  const carrier = carrierOf(context);
  if (carrier === undefined) {
    return undefined;
  }
  const custom = extractors[type as keyof OAuth2TokenExtractors];
  if (custom) {
    return { request: syntheticRequest(custom(context)), carrier, synthetic: true };
  }
  switch (type) {
    case 'graphql': {
      if (isHttpRequest(carrier)) {
        return { request: carrier, carrier, synthetic: false };
      }
      const authorization = authorizationOfConnectionParams(connectionParamsOf(carrier as Record<string, unknown>));
      return { request: syntheticRequest(authorization), carrier, synthetic: true };
    }
    case 'ws':
      return { request: syntheticRequest(defaultWsAuthorization(carrier)), carrier, synthetic: true };
    case 'rpc':
      return {
        request: syntheticRequest(defaultRpcAuthorization(context.getArgByIndex(0), context.getArgByIndex(1))),
        carrier,
        synthetic: true,
      };
    default:
      return undefined;
  }
}
