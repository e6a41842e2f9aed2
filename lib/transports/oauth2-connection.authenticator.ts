import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { TokenCacheRegistry } from '../cache/token-cache.registry';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { OAuth2Exception } from '../errors/oauth2.exception';
import { bearerTokenOf, isB64Token } from '../guards/bearer-token';
import { readClaims, timeClaimsRejection } from '../guards/payload-claims';
import { audienceMatches, issuerMatches } from '../guards/token-binding';
import { hasRequiredScopes } from '../guards/scopes';
import { TokenIntrospectionService } from '../guards/token-introspection.service';
import type { IntrospectionPayload, OAuth2RequestAttributes } from '../interfaces/introspection.interface';
import type { ResolvedOAuth2ModuleOptions } from '../options/resolved-options';
import { OAuth2ResourceRegistry } from '../resources/oauth2-resource.registry';
import { transportErrorOf, type OAuth2TransportError } from './transport-error';
import {
  authorizationOfConnectionParams,
  authorizationOfSocketIoHandshake,
  recordHandshakeAuthorization,
} from './transport-request';
import { InjectOAuth2Options } from '../decorators/inject-oauth2-options.decorator';

/**
 * What a connection is checked against. Defaults: the module's policy (its `oauthResource` and
 * `oauthCacheResource` must then be names, since there is no route to choose by).
 */
export interface OAuth2ConnectionOptions {
  /** The authorization-server resource that introspects the connection's token. */
  oauthResource?: string;
  /** The cache resource; `false` for none. */
  oauthCacheResource?: string | false;
  /** Scopes the token must hold to open a connection. Default none. */
  requiredScopes?: string[];
  /** true: every required scope; false: any one. Default: the module policy's. */
  modeStrict?: boolean;
}

/** A connection's token, once checked: its attributes (never the token itself) and when it expires. */
export interface OAuth2ConnectionIdentity {
  readonly attributes: Readonly<Omit<OAuth2RequestAttributes, 'oauth.access_token'>>;
  /** The token's `exp`, in milliseconds since the epoch, when it has one. */
  readonly expiresAt?: number;
}

/** What graphql-ws passes its `onConnect` hook (the part this module reads). */
export interface GraphQLWsConnectionContext {
  readonly connectionParams?: Readonly<Record<string, unknown>>;
  readonly extra?: unknown;
}

/** A WebSocket as the `ws` package has it (the part this module uses). */
interface ClosableSocket {
  close(code?: number, reason?: string): void;
  once?(event: string, listener: () => void): unknown;
}

/** A socket.io socket (the part this module uses). */
interface SocketIoSocket {
  handshake: unknown;
  emit(event: string, payload: unknown): unknown;
  disconnect(close?: boolean): unknown;
  once?(event: string, listener: () => void): unknown;
}

const CONNECTION_OPTION_NAMES = ['oauthResource', 'oauthCacheResource', 'requiredScopes', 'modeStrict'];
/** setTimeout's longest delay: a token that expires later is not timed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks the token of a connection when it opens: a GraphQL subscription's `connection_init` payload
 * (graphql-ws), a socket.io handshake, a `ws` gateway's upgrade request. A refused connection is closed
 * with the error key as its reason, and the code 4000 + the key's status (4401, 4403, 4503); a connection
 * whose token expires is closed when it does (4401). Messages on an open connection are still checked
 * one by one by `OAuth2Guard` where it is bound.
 *
 * @example
 * GraphQLModule.forRootAsync<ApolloDriverConfig>({
 *   driver: ApolloDriver,
 *   inject: [OAuth2ConnectionAuthenticator],
 *   useFactory: (auth: OAuth2ConnectionAuthenticator) => ({
 *     autoSchemaFile: true,
 *     subscriptions: { 'graphql-ws': { onConnect: auth.graphqlWsOnConnect() } },
 *   }),
 * })
 */
@Injectable()
export class OAuth2ConnectionAuthenticator {
  private readonly logger = new Logger('OAuth2Guard');

  constructor(
    @InjectOAuth2Options() private readonly options: ResolvedOAuth2ModuleOptions,
    private readonly resources: OAuth2ResourceRegistry,
    private readonly caches: TokenCacheRegistry,
    private readonly introspection: TokenIntrospectionService,
  ) {}

  /**
   * Checks an `Authorization` value (`Bearer <token>`): introspection (or the cache), `exp` and `nbf`,
   * the module policy's `audiences` and `issuers`, the required scopes.
   *
   * @throws OAuth2Exception with the key of the rejection.
   */
  async authenticate(
    authorization: string | undefined,
    options: OAuth2ConnectionOptions = {},
  ): Promise<OAuth2ConnectionIdentity> {
    const settings = this.settings(options);
    const token = authorization === undefined ? undefined : bearerTokenOf(authorization);
    if (token === undefined) {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER);
    }
    if (token === '') {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_ACCESS_TOKEN);
    }
    if (!isB64Token(token)) {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN, { invalidRequest: true });
    }
    const resource = this.resources.find(settings.oauthResource);
    if (!resource) {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_SERVER);
    }
    const cache = settings.oauthCacheResource === false ? undefined : this.caches.find(settings.oauthCacheResource);
    const payload: IntrospectionPayload = await this.introspection.activePayload(resource, cache, token);
    const policy = this.options.policy;
    const timeRejection = timeClaimsRejection(payload, policy.clockToleranceSeconds);
    if (timeRejection) {
      throw new OAuth2Exception(timeRejection);
    }
    // The module's audience and issuer binding holds for connections as for requests.
    if (
      (policy.audiences !== false && !audienceMatches(payload.aud, policy.audiences)) ||
      (policy.issuers !== false && !issuerMatches(payload.iss, policy.issuers))
    ) {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
    }
    const claims = readClaims(payload, resource);
    const required = options.requiredScopes ?? [];
    if (required.length > 0 && !hasRequiredScopes(claims.scopes, required, options.modeStrict ?? policy.modeStrict)) {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE, { requiredScopes: required });
    }
    const attributes: OAuth2ConnectionIdentity['attributes'] = Object.freeze({
      'oauth.client_id': claims.clientId,
      user: claims.user,
      'user.roles': claims.scopes,
      ...(policy.extractPayload && { 'oauth.payload': payload }),
    });
    const expiresAt = typeof payload.exp === 'number' ? (payload.exp + policy.clockToleranceSeconds) * 1000 : undefined;
    return { attributes, expiresAt };
  }

  /**
   * graphql-ws's `onConnect` hook: checks the `Authorization` (or `authorization`) value of the
   * `connection_init` payload. A refused connection is closed with the key as its reason (4401, 4403,
   * 4503); an accepted one is closed when its token expires.
   */
  graphqlWsOnConnect(options: OAuth2ConnectionOptions = {}): (context: GraphQLWsConnectionContext) => Promise<boolean> {
    this.settings(options);
    return async (context) => {
      const socket = (context.extra as { socket?: ClosableSocket } | undefined)?.socket;
      try {
        const identity = await this.authenticate(authorizationOfConnectionParams(context.connectionParams), options);
        if (socket) {
          this.closeOnExpiry(socket, identity, 'close');
        }
        return true;
      } catch (error) {
        socket?.close(...this.closeFrame(error));
        return false;
      }
    };
  }

  /**
   * A socket.io middleware (`server.use(...)` in the gateway's `afterInit`) that refuses the handshake of
   * a client without a valid token: the client's `connect_error` has the error `{ key, statusCode,
   * message }` as its `data`. An accepted client is disconnected when its token expires.
   */
  socketIoMiddleware(
    options: OAuth2ConnectionOptions = {},
  ): (socket: SocketIoSocket, next: (error?: Error) => void) => void {
    this.settings(options);
    return (socket, next) => {
      this.authenticate(authorizationOfSocketIoHandshake(socket), options).then(
        (identity) => {
          this.closeOnExpiry(socket, identity, 'disconnect');
          next();
        },
        (error: unknown) => {
          const refusal = new Error(error instanceof OAuth2Exception ? error.key : 'OAuth2 check failed') as Error & {
            data?: OAuth2TransportError;
          };
          refusal.data = this.transportError(error);
          next(refusal);
        },
      );
    };
  }

  /**
   * For a gateway's `handleConnection(client, request)`, on the socket.io and `ws` adapters: checks the
   * handshake's token and closes a refused connection (socket.io: an `exception` event with `{ key,
   * statusCode, message }`, then a disconnect; `ws`: a close frame with the key). With the `ws` adapter,
   * it also keeps the handshake's `Authorization` value for `OAuth2Guard` on the gateway's messages
   * (that adapter keeps no request).
   *
   * @returns whether the connection was accepted.
   */
  async authenticateConnection(
    client: object,
    request?: Pick<IncomingMessage, 'headers'>,
    options: OAuth2ConnectionOptions = {},
  ): Promise<boolean> {
    const isSocketIo = 'handshake' in client;
    const header = request?.headers.authorization;
    const authorization = isSocketIo ? authorizationOfSocketIoHandshake(client) : header;
    if (!isSocketIo) {
      recordHandshakeAuthorization(client, authorization);
    }
    try {
      const identity = await this.authenticate(authorization, options);
      this.closeOnExpiry(client as ClosableSocket & SocketIoSocket, identity, isSocketIo ? 'disconnect' : 'close');
      return true;
    } catch (error) {
      if (isSocketIo) {
        const socket = client as SocketIoSocket;
        socket.emit('exception', this.transportError(error));
        socket.disconnect(true);
      } else {
        (client as ClosableSocket).close(...this.closeFrame(error));
      }
      return false;
    }
  }

  /** The module's policy with a connection's options, checked: names only. */
  private settings(options: OAuth2ConnectionOptions): { oauthResource: string; oauthCacheResource: string | false } {
    for (const name of Object.keys(options)) {
      if (!CONNECTION_OPTION_NAMES.includes(name)) {
        throw new OAuth2ConfigurationError(
          `OAuth2ConnectionOptions.${name}`,
          `is not an option of a connection check (they are ${CONNECTION_OPTION_NAMES.join(', ')}).`,
        );
      }
    }
    const oauthResource = options.oauthResource ?? this.options.policy.oauthResource;
    if (typeof oauthResource !== 'string') {
      throw new OAuth2ConfigurationError(
        'OAuth2ConnectionOptions.oauthResource',
        "is required: the module's policy.oauthResource is not a name (a connection has no route to choose by). Pass { oauthResource: '<resource name>' }.",
      );
    }
    if (!this.resources.find(oauthResource)) {
      throw OAuth2ConfigurationError.unknownName(
        'OAuth2ConnectionOptions.oauthResource',
        'resource',
        oauthResource,
        this.options.resources.map((resource) => resource.name),
      );
    }
    const cache = options.oauthCacheResource ?? this.options.policy.oauthCacheResource;
    if (cache !== undefined && cache !== false && typeof cache !== 'string') {
      throw new OAuth2ConfigurationError(
        'OAuth2ConnectionOptions.oauthCacheResource',
        "is required when the module's policy.oauthCacheResource is a function: pass a cache name, or false.",
      );
    }
    return { oauthResource, oauthCacheResource: cache ?? false };
  }

  /** Closes (or disconnects) a connection when its token expires; the timer goes with the connection. */
  private closeOnExpiry(
    socket: Partial<ClosableSocket & SocketIoSocket>,
    identity: OAuth2ConnectionIdentity,
    how: 'close' | 'disconnect',
  ): void {
    if (identity.expiresAt === undefined) {
      return;
    }
    const delay = identity.expiresAt - Date.now();
    if (delay > MAX_TIMER_MS) {
      return;
    }
    const timer = setTimeout(
      () => {
        this.logger.debug('a connection was closed: its token expired');
        if (how === 'close') {
          socket.close?.(4401, OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
        } else {
          socket.emit?.(
            'exception',
            this.transportError(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN)),
          );
          socket.disconnect?.(true);
        }
      },
      Math.max(0, delay),
    );
    timer.unref();
    const event = how === 'close' ? 'close' : 'disconnect';
    socket.once?.(event, () => clearTimeout(timer));
  }

  /** The close frame of a refused connection: 4000 + the key's status, and the key. */
  private closeFrame(error: unknown): [number, string] {
    const { statusCode, key } = this.transportError(error);
    return [4000 + statusCode, key];
  }

  private transportError(error: unknown): OAuth2TransportError {
    if (error instanceof OAuth2Exception) {
      this.logger.debug(`connection refused (${error.key})`);
      return transportErrorOf(error, this.options);
    }
    this.logger.error(
      `connection check failed (${error instanceof Error ? error.name : typeof error}): the connection was refused`,
    );
    return transportErrorOf(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE), this.options);
  }
}
