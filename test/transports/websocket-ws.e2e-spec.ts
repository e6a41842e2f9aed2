import { type INestApplication, type Type, UseGuards } from '@nestjs/common';
import { MessageBody, type OnGatewayConnection, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
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
  closeFrame,
  eventWithin,
  itWhen,
  nextEvent,
  openWs,
  startWsApp,
} from './transport-kit';

function transportError(key: SpecErrorKey) {
  return { key, statusCode: SPEC_ERRORS[key].status, message: SPEC_ERRORS[key].message };
}

/**
 * Nest 11's BaseWsExceptionFilter "emits" an exception on a `ws` client with EventEmitter's emit(), which
 * sends nothing: a rejected message gets no answer there. Nest 12 sends `{ event: 'exception', data }`.
 * Nest 11 also never runs an APP_GUARD on a gateway (see websocket-socket-io.e2e-spec.ts).
 */
const NEST_MAJOR = process.env.OAUTH2_TEST_NEST ?? '12';
const BINDINGS = NEST_MAJOR === '11' ? (['useGuards'] as const) : (['useGuards', 'global'] as const);

const calls = new Calls();

function gateways(binding: 'useGuards' | 'global'): Type[] {
  const bind = (gateway: Type) => (binding === 'useGuards' ? (UseGuards(OAuth2Guard)(gateway) ?? gateway) : gateway);

  /** Checks the handshake in handleConnection, which also records its Authorization for the guard. */
  @WebSocketGateway({ path: '/orders' })
  class OrdersGateway implements OnGatewayConnection {
    constructor(private readonly auth: OAuth2ConnectionAuthenticator) {}

    async handleConnection(client: object, request: IncomingMessage) {
      calls.record('connection', await this.auth.authenticateConnection(client, request));
    }

    @SubscribeMessage('whoami')
    whoami(
      @MessageBody() body: unknown,
      @OAuth2Attribute('oauth.client_id') clientId: unknown,
      @OAuth2Payload('$.sub') sub: unknown,
    ) {
      calls.record('whoami', body);
      return { event: 'whoami', data: { body, clientId, sub } };
    }

    @SubscribeMessage('write')
    @RequiredScopes('orders:write')
    write() {
      calls.record('write');
      return { event: 'write', data: { written: true } };
    }
  }

  /** A connection check with its own required scope. */
  @WebSocketGateway({ path: '/admin' })
  class AdminGateway implements OnGatewayConnection {
    constructor(private readonly auth: OAuth2ConnectionAuthenticator) {}

    async handleConnection(client: object, request: IncomingMessage) {
      calls.record(
        'admin-connection',
        await this.auth.authenticateConnection(client, request, { requiredScopes: ['orders:admin'] }),
      );
    }
  }

  /** No handleConnection: the ws adapter keeps no handshake, so the guard finds no token in messages. */
  @WebSocketGateway({ path: '/bare' })
  class BareGateway {
    @SubscribeMessage('whoami')
    whoami(@MessageBody() body: unknown) {
      calls.record('bare-whoami', body);
      return { event: 'whoami', data: { body } };
    }
  }

  return [bind(OrdersGateway), bind(AdminGateway), bind(BareGateway)];
}

/** Sends `{ event, data }`; resolves with the first message that comes back (parsed), or undefined after `ms`. */
async function ask(socket: WebSocket, event: string, data: unknown, ms = ANSWER_MS): Promise<unknown> {
  const answer = nextEvent<Buffer>(socket, 'message', ms).then(
    (raw) => JSON.parse(raw.toString('utf8')) as unknown,
    () => undefined,
  );
  socket.send(JSON.stringify({ event, data }));
  return answer;
}

/** What a rejected message gets back: Nest 12's exception message, or nothing on Nest 11. */
function rejectionOf(key: SpecErrorKey): unknown {
  return NEST_MAJOR === '11' ? undefined : { event: 'exception', data: transportError(key) };
}

/** How long to wait for an answer that should not come (Nest 11's silent rejections). */
const SILENCE_MS = NEST_MAJOR === '11' ? 300 : ANSWER_MS;

describe.each(ADAPTERS)('ws-adapter gateways on %s', (adapter) => {
  describe.each(BINDINGS)('guard bound by %s', (binding) => {
    const server = new ScriptedIntrospectionServer();
    const resetServer = resettable(server);
    const clients = new ClientTracker();
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      const asUrl = await server.start();
      app = await startWsApp(adapter, 'ws', {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', asUrl)],
            policy: { oauthResource: 'as', extractPayload: true, clockToleranceSeconds: 0 },
            global: binding === 'global',
          }),
        ],
        providers: gateways(binding),
      });
      url = appUrl(app, 'ws');
    });
    afterAll(async () => {
      await app?.close();
      await server.stop();
    });
    beforeEach(() => {
      resetServer();
      calls.clear();
      server.tokens.set('good', { active: true, client_id: 'c1', sub: 'alice', scope: 'orders:read' });
    });
    afterEach(() => clients.closeAll());

    async function open(path: string, authorization?: string): Promise<WebSocket> {
      return clients.ws(await openWs(`${url}${path}`, authorization));
    }

    describe('authenticateConnection(client, request) in handleConnection', () => {
      it.each([
        ['no Authorization header', undefined, 'OAUTH2_MISSING_HEADER'],
        ['an inactive token', 'Bearer unknown', 'OAUTH2_INVALID_ACCESS_TOKEN'],
        ['an empty token', 'Bearer ', 'OAUTH2_MISSING_ACCESS_TOKEN'],
      ] as const)('refuses %s: close code 4401, the key as the reason', async (_name, authorization, key) => {
        const socket = await open('/orders', authorization);
        await expect(closeFrame(socket)).resolves.toEqual({ code: 4401, reason: key });
        expect(calls.of('connection')).toEqual([false]);
      });

      it('refuses a token without the connection’s required scope: close code 4403, OAUTH2_INSUFFICIENT_SCOPE', async () => {
        const socket = await open('/admin', 'Bearer good');
        await expect(closeFrame(socket)).resolves.toEqual({ code: 4403, reason: 'OAUTH2_INSUFFICIENT_SCOPE' });
        expect(calls.of('admin-connection')).toEqual([false]);
      });

      it("accepts a valid token, and records the handshake's Authorization for the guard on each message", async () => {
        const socket = await open('/orders', 'Bearer good');
        await expect(ask(socket, 'whoami', { n: 1 })).resolves.toEqual({
          event: 'whoami',
          data: { body: { n: 1 }, clientId: 'c1', sub: 'alice' },
        });
        expect(calls.of('connection')).toEqual([true]);
        expect(socket.readyState).toBe(socket.OPEN);
        // The scope check of a message is the guard's, on the recorded token.
        await expect(ask(socket, 'write', {}, SILENCE_MS)).resolves.toEqual(rejectionOf('OAUTH2_INSUFFICIENT_SCOPE'));
        expect(calls.of('write')).toEqual([]);
        expect(socket.readyState).toBe(socket.OPEN);
      });

      it('checks each message afresh: a token revoked after the handshake is rejected on the next message', async () => {
        const socket = await open('/orders', 'Bearer good');
        await expect(ask(socket, 'whoami', 1)).resolves.toHaveProperty('event', 'whoami');
        server.tokens.delete('good');
        await expect(ask(socket, 'whoami', 2, SILENCE_MS)).resolves.toEqual(rejectionOf('OAUTH2_INVALID_ACCESS_TOKEN'));
        expect(calls.of('whoami')).toEqual([1]);
      });
    });

    // Once: it waits for a token to expire.
    itWhen(adapter === 'express' && binding === 'useGuards')(
      'closes an accepted connection when its token expires: 4401, OAUTH2_INVALID_ACCESS_TOKEN',
      async () => {
        server.tokens.set('short', { active: true, client_id: 'c1', exp: nowSeconds() + 2 });
        const socket = await open('/orders', 'Bearer short');
        const closed = closeFrame(socket);
        await expect(ask(socket, 'whoami', 1)).resolves.toHaveProperty('event', 'whoami');
        await expect(closed).resolves.toEqual({ code: 4401, reason: 'OAUTH2_INVALID_ACCESS_TOKEN' });
        expect(calls.of('connection')).toEqual([true]);
      },
    );

    describe('a gateway without authenticateConnection', () => {
      it('rejects messages (the ws adapter keeps no handshake): OAUTH2_MISSING_HEADER, no 500, no crash', async () => {
        const socket = await open('/bare', 'Bearer good');
        await expect(ask(socket, 'whoami', 1, SILENCE_MS)).resolves.toEqual(rejectionOf('OAUTH2_MISSING_HEADER'));
        expect(calls.of('bare-whoami')).toEqual([]);
        expect(server.requestsTo('/introspect')).toHaveLength(0);
        // The connection and the application go on: a second message is rejected the same way.
        expect(socket.readyState).toBe(socket.OPEN);
        await expect(ask(socket, 'whoami', 2, SILENCE_MS)).resolves.toEqual(rejectionOf('OAUTH2_MISSING_HEADER'));
        expect(await eventWithin(socket, 'close', 50)).toBe(false);
      });
    });
  });
});
