import { type INestApplication, type Type, UseGuards } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Namespace } from 'socket.io';
import type { Socket } from 'socket.io-client';
import {
  OAuth2Attribute,
  OAuth2ConnectionAuthenticator,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Payload,
  RequiredScopes,
} from '../../lib';
import { SPEC_ERRORS, type SpecErrorKey } from '../support/e2e-kit';
import { genericResource, nowSeconds, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import {
  ANSWER_MS,
  Calls,
  ClientTracker,
  appUrl,
  connected,
  describeWhen,
  eventWithin,
  itWhen,
  nextEvent,
  socketIoClient,
  startWsApp,
  type SocketIoCredentials,
} from './transport-kit';

/** What a rejected call's client gets: `{ key, statusCode, message }`, nothing else. */
function transportError(key: SpecErrorKey) {
  return { key, statusCode: SPEC_ERRORS[key].status, message: SPEC_ERRORS[key].message };
}

const calls = new Calls();

/** The gateways of one application: guarded by `@UseGuards(OAuth2Guard)`, or left to `global: true`. */
function gateways(binding: 'useGuards' | 'global'): Type[] {
  const bind = (gateway: Type) => (binding === 'useGuards' ? (UseGuards(OAuth2Guard)(gateway) ?? gateway) : gateway);

  @WebSocketGateway()
  class OrdersGateway {
    @SubscribeMessage('whoami')
    whoami(
      @MessageBody() body: unknown,
      @OAuth2Attribute('oauth.client_id') clientId: unknown,
      @OAuth2Payload('$.sub') sub: unknown,
    ) {
      calls.record('whoami', body);
      return { body, clientId, sub };
    }

    @SubscribeMessage('write')
    @RequiredScopes('orders:write')
    write() {
      calls.record('write');
      return { written: true };
    }
  }

  /** Refuses handshakes in a socket.io middleware. */
  @WebSocketGateway({ namespace: 'mw' })
  class MiddlewareGateway implements OnGatewayInit {
    constructor(private readonly auth: OAuth2ConnectionAuthenticator) {}

    afterInit(server: Namespace) {
      server.use(this.auth.socketIoMiddleware());
    }

    @SubscribeMessage('ping')
    ping(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
      calls.record('mw-ping');
      return { pong: clientId };
    }
  }

  /** Refuses connections in handleConnection. */
  @WebSocketGateway({ namespace: 'conn' })
  class ConnectionGateway implements OnGatewayConnection {
    constructor(private readonly auth: OAuth2ConnectionAuthenticator) {}

    async handleConnection(client: object) {
      calls.record('connection', await this.auth.authenticateConnection(client));
    }

    @SubscribeMessage('ping')
    ping(@ConnectedSocket() client: object, @OAuth2Attribute('oauth.client_id') clientId: unknown) {
      calls.record('conn-ping', typeof client);
      return { pong: clientId };
    }
  }

  return [bind(OrdersGateway), bind(MiddlewareGateway), bind(ConnectionGateway)];
}

/** Emits with an acknowledgement: resolves with the ack, or with the `exception` event that came instead. */
function ask(socket: Socket, event: string, data: unknown): Promise<{ ack?: unknown; exception?: unknown }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`neither an ack nor an exception within ${ANSWER_MS} ms`)),
      ANSWER_MS,
    );
    const onException = (exception: unknown) => {
      clearTimeout(timer);
      resolve({ exception });
    };
    socket.once('exception', onException);
    socket.emit(event, data, (ack: unknown) => {
      clearTimeout(timer);
      socket.off('exception', onException);
      resolve({ ack });
    });
  });
}

const GOOD = { active: true, client_id: 'c1', sub: 'alice', scope: 'orders:read' };

/**
 * Nest 11's socket module builds its guards' context without the application's config, so it never runs
 * an APP_GUARD (`global: true`) on a gateway; Nest 12 does. The leg is chosen as jest.config.js chooses it.
 */
const NEST_MAJOR = process.env.OAUTH2_TEST_NEST ?? '12';
const BINDINGS = NEST_MAJOR === '11' ? (['useGuards'] as const) : (['useGuards', 'global'] as const);

describe.each(ADAPTERS)('socket.io gateways on %s', (adapter) => {
  describe.each(BINDINGS)('guard bound by %s', (binding) => {
    const server = new ScriptedIntrospectionServer();
    const resetServer = resettable(server);
    const clients = new ClientTracker();
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      const asUrl = await server.start();
      app = await startWsApp(adapter, 'socket.io', {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', asUrl)],
            policy: { oauthResource: 'as', extractPayload: true, clockToleranceSeconds: 0 },
            global: binding === 'global',
          }),
        ],
        providers: gateways(binding),
      });
      url = appUrl(app);
    });
    afterAll(async () => {
      await app?.close();
      await server.stop();
    });
    beforeEach(() => {
      resetServer();
      calls.clear();
      server.tokens.set('good', GOOD);
    });
    afterEach(() => clients.closeAll());

    async function client(namespace: string, credentials: SocketIoCredentials = {}): Promise<Socket> {
      return connected(clients.socketIo(socketIoClient(url, namespace, credentials)));
    }

    describe('a guarded @SubscribeMessage handler', () => {
      it("answers for a valid token in the handshake's Authorization header (sent by extraHeaders)", async () => {
        const socket = await client('/', { authorization: 'Bearer good' });
        await expect(ask(socket, 'whoami', { n: 1 })).resolves.toEqual({
          ack: { body: { n: 1 }, clientId: 'c1', sub: 'alice' },
        });
        expect(server.requestsTo('/introspect')).toHaveLength(1);
        expect(server.requestsTo('/introspect')[0].form.get('token')).toBe('good');
      });

      it('answers for a valid token in auth.token, with or without the Bearer scheme', async () => {
        const bare = await client('/', { authToken: 'good' });
        await expect(ask(bare, 'whoami', 'a')).resolves.toEqual({ ack: { body: 'a', clientId: 'c1', sub: 'alice' } });
        const schemed = await client('/', { authToken: 'Bearer good' });
        await expect(ask(schemed, 'whoami', 'b')).resolves.toEqual({
          ack: { body: 'b', clientId: 'c1', sub: 'alice' },
        });
      });

      it.each([
        ['no token', {}, 'OAUTH2_MISSING_HEADER'],
        ['an inactive token', { authorization: 'Bearer unknown' }, 'OAUTH2_INVALID_ACCESS_TOKEN'],
        ['a malformed token', { authToken: 'not a token' }, 'OAUTH2_INVALID_ACCESS_TOKEN'],
      ] as const)('rejects %s: an exception event { key, statusCode, message }', async (_name, credentials, key) => {
        const socket = await client('/', credentials);
        await expect(ask(socket, 'whoami', { n: 1 })).resolves.toEqual({ exception: transportError(key) });
        expect(calls.of('whoami')).toEqual([]);
        // The connection stays usable: a rejection is per message.
        expect(socket.connected).toBe(true);
      });

      it('rejects a token without the required scope with OAUTH2_INSUFFICIENT_SCOPE (403)', async () => {
        const socket = await client('/', { authorization: 'Bearer good' });
        await expect(ask(socket, 'write', {})).resolves.toEqual({
          exception: transportError('OAUTH2_INSUFFICIENT_SCOPE'),
        });
        server.tokens.set('writer', { active: true, scope: 'orders:write' });
        const writer = await client('/', { authorization: 'Bearer writer' });
        await expect(ask(writer, 'write', {})).resolves.toEqual({ ack: { written: true } });
        expect(calls.of('write')).toHaveLength(1);
      });

      it('checks each message afresh: a token revoked between two messages is rejected', async () => {
        const socket = await client('/', { authorization: 'Bearer good' });
        await expect(ask(socket, 'whoami', 1)).resolves.toHaveProperty('ack');
        server.tokens.delete('good');
        await expect(ask(socket, 'whoami', 2)).resolves.toEqual({
          exception: transportError('OAUTH2_INVALID_ACCESS_TOKEN'),
        });
        expect(server.requestsTo('/introspect')).toHaveLength(2);
      });
    });

    describe('OAuth2ConnectionAuthenticator.socketIoMiddleware() in afterInit', () => {
      it.each([
        ['no token', {}, 'OAUTH2_MISSING_HEADER'],
        ['an inactive token', { authorization: 'Bearer unknown' }, 'OAUTH2_INVALID_ACCESS_TOKEN'],
      ] as const)(
        'refuses a handshake with %s: connect_error.data = { key, statusCode, message }',
        async (_n, c, key) => {
          const error = (await client('/mw', c).then(
            () => undefined,
            (refusal: unknown) => refusal,
          )) as (Error & { data?: unknown }) | undefined;
          expect(error).toBeInstanceOf(Error);
          expect(error?.message).toBe(key);
          expect(error?.data).toEqual(transportError(key));
          expect(calls.of('mw-ping')).toEqual([]);
        },
      );

      it('accepts a valid token; its messages are answered', async () => {
        const socket = await client('/mw', { authToken: 'good' });
        await expect(ask(socket, 'ping', {})).resolves.toEqual({ ack: { pong: 'c1' } });
      });
    });

    describe('OAuth2ConnectionAuthenticator.authenticateConnection() in handleConnection', () => {
      it('refuses a connection without a valid token: an exception event, then a server disconnect', async () => {
        const socket = clients.socketIo(socketIoClient(url, '/conn', { authorization: 'Bearer unknown' }));
        const exception = nextEvent(socket, 'exception');
        const disconnect = nextEvent<string>(socket, 'disconnect');
        await expect(exception).resolves.toEqual(transportError('OAUTH2_INVALID_ACCESS_TOKEN'));
        await expect(disconnect).resolves.toBe('io server disconnect');
        expect(calls.of('connection')).toEqual([false]);
      });

      // Once: it waits for a token to expire.
      itWhen(adapter === 'express' && binding === 'useGuards')(
        'disconnects an accepted client when its token expires, with an exception event OAUTH2_INVALID_ACCESS_TOKEN',
        async () => {
          server.tokens.set('short', { active: true, client_id: 'c1', exp: nowSeconds() + 2 });
          const socket = await client('/conn', { authorization: 'Bearer short' });
          const exception = nextEvent(socket, 'exception');
          const disconnect = nextEvent<string>(socket, 'disconnect');
          await expect(exception).resolves.toEqual(transportError('OAUTH2_INVALID_ACCESS_TOKEN'));
          await expect(disconnect).resolves.toBe('io server disconnect');
          expect(calls.of('connection')).toEqual([true]);
        },
      );

      it('accepts a valid token: the connection stays, and its messages are answered', async () => {
        const socket = await client('/conn', { authorization: 'Bearer good' });
        await expect(ask(socket, 'ping', {})).resolves.toEqual({ ack: { pong: 'c1' } });
        expect(await eventWithin(socket, 'disconnect', 100)).toBe(false);
        expect(calls.of('connection')).toEqual([true]);
        expect(calls.of('conn-ping')).toEqual(['object']);
      });
    });
  });
});

describeWhen(NEST_MAJOR === '11')('Nest 11: global: true and gateways', () => {
  const server = new ScriptedIntrospectionServer();
  const clients = new ClientTracker();
  let app: INestApplication;

  beforeAll(async () => {
    const asUrl = await server.start();
    app = await startWsApp('express', 'socket.io', {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', asUrl)],
          policy: { oauthResource: 'as', extractPayload: true },
          global: true,
        }),
      ],
      providers: gateways('global'),
    });
  });
  afterAll(async () => {
    await clients.closeAll();
    await app?.close();
    await server.stop();
  });

  it("never runs the APP_GUARD on a gateway's message (Nest 11's own limit): the handler is reached unchecked", async () => {
    calls.clear();
    const socket = await connected(clients.socketIo(socketIoClient(appUrl(app), '/')));
    await expect(ask(socket, 'whoami', 1)).resolves.toEqual({ ack: { body: 1 } });
    expect(server.requestsTo('/introspect')).toHaveLength(0);
  });
});
