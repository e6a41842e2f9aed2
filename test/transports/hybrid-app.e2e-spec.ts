import { Controller, Get, type INestApplication, UseFilters, UseGuards } from '@nestjs/common';
import { type ClientProxy, MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import {
  OAuth2Attribute,
  OAuth2ErrorKey,
  OAuth2Exception,
  OAuth2ExceptionFilter,
  OAuth2Guard,
  OAuth2Module,
  type OAuth2ModuleOptions,
} from '../../lib';
import { SPEC_ERRORS, specErrorBody, type SpecErrorKey } from '../support/e2e-kit';
import { genericResource, resettable, startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS, type AdapterName } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import {
  ANSWER_MS,
  Calls,
  ClientTracker,
  appUrl,
  connected,
  freePort,
  sendAndSettle,
  socketIoClient,
  startWsApp,
  tcpClient,
} from './transport-kit';

function transportError(key: SpecErrorKey) {
  return { key, statusCode: SPEC_ERRORS[key].status, message: SPEC_ERRORS[key].message };
}

/** What Nest's own exception handlers send for an exception that is not their transport's. */
const INTERNAL_ERROR = { status: 'error', message: 'Internal server error' };

const NEST_MAJOR = process.env.OAUTH2_TEST_NEST ?? '12';
const calls = new Calls();

@Controller('orders')
class OrdersController {
  @Get()
  list(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId };
  }

  @Get('app-throws')
  appThrows() {
    throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE);
  }
}

@Controller()
class OrdersMessages {
  @MessagePattern('whoami')
  whoami(@Payload() data: { n?: number }, @OAuth2Attribute('oauth.client_id') clientId: unknown) {
    calls.record('rpc-whoami', data.n);
    return { n: data.n, clientId };
  }

  @MessagePattern('app-throws')
  appThrows() {
    throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE);
  }
}

/** Bound with @UseGuards: checked whatever the APP_GUARD does. */
@Controller()
@UseGuards(OAuth2Guard)
class GuardedMessages {
  @MessagePattern('guarded.whoami')
  whoami(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    calls.record('rpc-guarded');
    return { clientId };
  }
}

@WebSocketGateway()
class OrdersGateway {
  @SubscribeMessage('whoami')
  whoami(@MessageBody() n: unknown, @OAuth2Attribute('oauth.client_id') clientId: unknown) {
    calls.record('ws-whoami', n);
    return { n, clientId };
  }

  @SubscribeMessage('app-throws')
  appThrows() {
    throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE);
  }
}

/** Bound with @UseGuards, and with the module's filter bound by hand (APP_FILTERs never reach gateways). */
@WebSocketGateway({ namespace: 'guarded' })
@UseGuards(OAuth2Guard)
@UseFilters(OAuth2ExceptionFilter)
class GuardedGateway {
  @SubscribeMessage('whoami')
  whoami(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    calls.record('ws-guarded');
    return { clientId };
  }

  @SubscribeMessage('app-throws')
  appThrows() {
    throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE);
  }
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

interface Hybrid {
  app: INestApplication;
  rpc: ClientProxy;
  server: ScriptedIntrospectionServer;
  socket(namespace: string, authorization?: string): Promise<Socket>;
}

/**
 * One application: HTTP routes, socket.io gateways, and a TCP microservice connected to it, with
 * `global: true` and the given options; its authorization server knows the token `good`.
 */
function hybridApp(adapter: AdapterName, inheritAppConfig: boolean, extra: Partial<OAuth2ModuleOptions> = {}) {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  const clients = new ClientTracker();
  let hybrid: Hybrid | undefined;

  beforeAll(async () => {
    const asUrl = await server.start();
    const port = await freePort();
    const app = await startWsApp(
      adapter,
      'socket.io',
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', asUrl)],
            policy: { oauthResource: 'as' },
            global: true,
            ...extra,
          }),
        ],
        controllers: [OrdersController, OrdersMessages, GuardedMessages],
        providers: [OrdersGateway, GuardedGateway],
      },
      (created) =>
        created.connectMicroservice(
          { transport: Transport.TCP, options: { host: '127.0.0.1', port } },
          { inheritAppConfig },
        ),
    );
    await app.startAllMicroservices();
    const rpc = tcpClient(port);
    await rpc.connect();
    const url = appUrl(app);
    hybrid = {
      app,
      rpc,
      server,
      socket: (namespace, authorization) =>
        connected(clients.socketIo(socketIoClient(url, namespace, { authorization }))),
    };
  });
  afterAll(async () => {
    await hybrid?.rpc.close();
    await hybrid?.app.close();
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    calls.clear();
    server.tokens.set('good', { active: true, client_id: 'c1', scope: 'orders:read' });
  });
  afterEach(() => clients.closeAll());
  return (): Hybrid => {
    if (!hybrid) {
      throw new Error('the hybrid application did not start');
    }
    return hybrid;
  };
}

function get(app: INestApplication, path: string, authorization?: string) {
  const call = request(app.getHttpServer()).get(path);
  return authorization === undefined ? call : call.set('Authorization', authorization);
}

describe.each(ADAPTERS)('a hybrid application on %s, global: true, inheritAppConfig: true', (adapter) => {
  const hybrid = hybridApp(adapter, true);

  it('HTTP: 401 with the key without a token, 200 with a valid one', async () => {
    const refused = await get(hybrid().app, '/orders');
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(specErrorBody('OAUTH2_MISSING_HEADER'));
    await get(hybrid().app, '/orders', 'Bearer good').expect(200, { clientId: 'c1' });
    const thrown = await get(hybrid().app, '/orders/app-throws', 'Bearer good');
    expect(thrown.status).toBe(403);
    expect(thrown.body).toEqual(specErrorBody('OAUTH2_INSUFFICIENT_SCOPE'));
  });

  it('RPC: the APP_GUARD checks the connected microservice; a rejection is { key, statusCode, message }', async () => {
    await expect(sendAndSettle(hybrid().rpc, 'whoami', { n: 1 })).resolves.toEqual({
      error: transportError('OAUTH2_MISSING_HEADER'),
    });
    await expect(sendAndSettle(hybrid().rpc, 'whoami', { n: 2, authorization: 'Bearer nope' })).resolves.toEqual({
      error: transportError('OAUTH2_INVALID_ACCESS_TOKEN'),
    });
    await expect(sendAndSettle(hybrid().rpc, 'whoami', { n: 3, authorization: 'Bearer good' })).resolves.toEqual({
      answer: { n: 3, clientId: 'c1' },
    });
    expect(calls.of('rpc-whoami')).toEqual([3]);
  });

  it("RPC: an OAuth2Exception of the application's code goes through the inherited APP_FILTER", async () => {
    await expect(sendAndSettle(hybrid().rpc, 'app-throws', { authorization: 'Bearer good' })).resolves.toEqual({
      error: transportError('OAUTH2_INSUFFICIENT_SCOPE'),
    });
  });

  it('WebSocket: a @UseGuards gateway rejects with an exception event { key, statusCode, message }', async () => {
    const anonymous = await hybrid().socket('/guarded');
    await expect(ask(anonymous, 'whoami', 1)).resolves.toEqual({ exception: transportError('OAUTH2_MISSING_HEADER') });
    const known = await hybrid().socket('/guarded', 'Bearer good');
    await expect(ask(known, 'whoami', 1)).resolves.toEqual({ ack: { clientId: 'c1' } });
    expect(calls.of('ws-guarded')).toHaveLength(1);
  });

  it(
    NEST_MAJOR === '11'
      ? 'WebSocket: Nest 11 runs no APP_GUARD on gateways: a gateway without @UseGuards answers unchecked'
      : 'WebSocket: the APP_GUARD checks a gateway without @UseGuards too',
    async () => {
      const anonymous = await hybrid().socket('/');
      await expect(ask(anonymous, 'whoami', 1)).resolves.toEqual(
        NEST_MAJOR === '11' ? { ack: { n: 1 } } : { exception: transportError('OAUTH2_MISSING_HEADER') },
      );
      const known = await hybrid().socket('/', 'Bearer good');
      await expect(ask(known, 'whoami', 2)).resolves.toEqual({
        ack: NEST_MAJOR === '11' ? { n: 2 } : { n: 2, clientId: 'c1' },
      });
    },
  );

  it("WebSocket: an OAuth2Exception of the application's code is an internal error unless the gateway binds OAuth2ExceptionFilter (APP_FILTERs never reach gateways)", async () => {
    const filtered = await hybrid().socket('/guarded', 'Bearer good');
    await expect(ask(filtered, 'app-throws', 1)).resolves.toEqual({
      exception: transportError('OAUTH2_INSUFFICIENT_SCOPE'),
    });
    const unfiltered = await hybrid().socket('/', 'Bearer good');
    await expect(ask(unfiltered, 'app-throws', 1)).resolves.toEqual({
      exception: { ...INTERNAL_ERROR, cause: { pattern: 'app-throws', data: 1 } },
    });
  });
});

describe('a hybrid application, global: true, without inheritAppConfig', () => {
  const hybrid = hybridApp('express', false);

  it("the module's APP_GUARD does not reach the connected microservice: a call without a token is answered unchecked", async () => {
    await expect(sendAndSettle(hybrid().rpc, 'whoami', { n: 1 })).resolves.toEqual({ answer: { n: 1 } });
    expect(calls.of('rpc-whoami')).toEqual([1]);
    expect(hybrid().server.requestsTo('/introspect')).toHaveLength(0);
  });

  it("the module's APP_FILTER does not reach it either: an OAuth2Exception of the application's code is an internal error", async () => {
    await expect(sendAndSettle(hybrid().rpc, 'app-throws', { authorization: 'Bearer good' })).resolves.toEqual({
      error: INTERNAL_ERROR,
    });
  });

  it('@UseGuards(OAuth2Guard) on the microservice controller still checks it', async () => {
    await expect(sendAndSettle(hybrid().rpc, 'guarded.whoami', {})).resolves.toEqual({
      error: transportError('OAUTH2_MISSING_HEADER'),
    });
    await expect(sendAndSettle(hybrid().rpc, 'guarded.whoami', { authorization: 'Bearer good' })).resolves.toEqual({
      answer: { clientId: 'c1' },
    });
  });

  it('HTTP stays guarded', async () => {
    expect((await get(hybrid().app, '/orders')).status).toBe(401);
  });
});

describe("a hybrid application, global: true, transports.globalContextTypes: ['http']", () => {
  const hybrid = hybridApp('express', true, { transports: { globalContextTypes: ['http'] } });

  it('HTTP stays guarded', async () => {
    const refused = await get(hybrid().app, '/orders');
    expect(refused.status).toBe(401);
    expect(refused.body.key).toBe('OAUTH2_MISSING_HEADER');
  });

  it('RPC and WebSocket handlers without @UseGuards are let through unchecked', async () => {
    await expect(sendAndSettle(hybrid().rpc, 'whoami', { n: 1 })).resolves.toEqual({ answer: { n: 1 } });
    const anonymous = await hybrid().socket('/');
    await expect(ask(anonymous, 'whoami', 2)).resolves.toEqual({ ack: { n: 2 } });
    expect(calls.of('rpc-whoami')).toEqual([1]);
    expect(calls.of('ws-whoami')).toEqual([2]);
    expect(hybrid().server.requestsTo('/introspect')).toHaveLength(0);
  });

  it('@UseGuards(OAuth2Guard) still checks a ws handler and an RPC handler of a type left out of globalContextTypes', async () => {
    const anonymous = await hybrid().socket('/guarded');
    await expect(ask(anonymous, 'whoami', 1)).resolves.toEqual({ exception: transportError('OAUTH2_MISSING_HEADER') });
    await expect(sendAndSettle(hybrid().rpc, 'guarded.whoami', {})).resolves.toEqual({
      error: transportError('OAUTH2_MISSING_HEADER'),
    });
    expect(calls.of('ws-guarded')).toEqual([]);
    expect(calls.of('rpc-guarded')).toEqual([]);
  });
});

describe('invalid transports options fail the start with a message naming the field', () => {
  const server = new ScriptedIntrospectionServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it.each([
    ["globalContextTypes: ['kafka']", { globalContextTypes: ['kafka'] }, 'transports.globalContextTypes[0]'],
    ["globalContextTypes: 'ws'", { globalContextTypes: 'ws' }, 'transports.globalContextTypes'],
    ["tokenExtractors.rpc: 'x'", { tokenExtractors: { rpc: 'x' } }, 'transports.tokenExtractors.rpc'],
    ['tokenExtractors.kafka', { tokenExtractors: { kafka: () => undefined } }, 'transports.tokenExtractors.kafka'],
    ['an async extractor', { tokenExtractors: { ws: async () => undefined } }, 'transports.tokenExtractors.ws'],
    ['an unknown transports option', { contextTypes: ['http'] }, 'transports.contextTypes'],
  ])('%s', async (_name, transports, field) => {
    const error = await startupError('express', {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', server.url)],
          policy: { oauthResource: 'as' },
          global: true,
          transports: transports as unknown as OAuth2ModuleOptions['transports'],
        }),
      ],
    });
    expect(error.message).toContain(field);
  });
});
