import {
  Controller,
  type DynamicModule,
  type ExecutionContext,
  type INestMicroservice,
  Module,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  type ClientProxy,
  EventPattern,
  MessagePattern,
  type MicroserviceOptions,
  Payload,
  Transport,
} from '@nestjs/microservices';
import {
  OAuth2Attribute,
  OAuth2ErrorKey,
  OAuth2Exception,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Payload,
  OAuth2Policy,
  RequiredScopes,
} from '../../lib';
import { SPEC_ERRORS, type SpecErrorKey } from '../support/e2e-kit';
import { genericResource, resettable, sleep } from '../support/guard-e2e-helpers';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { Calls, ClientTracker, freePort, sendAndSettle, tcpClient } from './transport-kit';

function transportError(key: SpecErrorKey) {
  return { key, statusCode: SPEC_ERRORS[key].status, message: SPEC_ERRORS[key].message };
}

const calls = new Calls();

function orderControllers(binding: 'useGuards' | 'global'): Type[] {
  @Controller()
  class OrdersMessages {
    @MessagePattern('whoami')
    whoami(
      @Payload() data: Record<string, unknown>,
      @OAuth2Attribute('oauth.client_id') clientId: unknown,
      @OAuth2Payload('$.sub') sub: unknown,
    ) {
      calls.record('whoami', { ...data });
      return { n: data.n, clientId, sub, authorizationSeen: 'authorization' in data };
    }

    @MessagePattern('write')
    @RequiredScopes('orders:write')
    write() {
      calls.record('write');
      return { written: true };
    }

    @MessagePattern('no-propagation')
    @OAuth2Policy({ propagateAuthHeader: false })
    noPropagation(@Payload() data: Record<string, unknown>) {
      return { keys: Object.keys(data).sort() };
    }

    /** The application's own code throws an OAuth2Exception after the guard let the call through. */
    @MessagePattern('app-throws')
    appThrows() {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE);
    }

    @EventPattern('order.created')
    created(@Payload() data: Record<string, unknown>, @OAuth2Attribute('oauth.client_id') clientId: unknown) {
      calls.record('order.created', { id: data.id, clientId });
    }
  }
  return [binding === 'useGuards' ? (UseGuards(OAuth2Guard)(OrdersMessages) ?? OrdersMessages) : OrdersMessages];
}

/** A standalone TCP microservice (NestFactory.createMicroservice) on 127.0.0.1 and a free port. */
async function startMicroservice(imports: DynamicModule[], controllers: Type[]) {
  @Module({ imports, controllers })
  class MicroserviceModule {}
  const port = await freePort();
  const microservice = await NestFactory.createMicroservice<MicroserviceOptions>(MicroserviceModule, {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: false,
  });
  await microservice.listen();
  return { microservice, port };
}

/** Waits (bounded) until a handler has been called `count` times. */
async function calledTimes(handler: string, count: number): Promise<unknown[]> {
  for (let attempt = 0; attempt < 60 && calls.of(handler).length < count; attempt++) {
    await sleep(25);
  }
  return calls.of(handler);
}

const GOOD = { active: true, client_id: 'c1', sub: 'alice', scope: 'orders:read' };

describe.each(['useGuards', 'global'] as const)('a standalone TCP microservice, guard bound by %s', (binding) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  const clients = new ClientTracker();
  let microservice: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    const asUrl = await server.start();
    let port: number;
    ({ microservice, port } = await startMicroservice(
      [
        OAuth2Module.forRoot({
          resources: [genericResource('as', asUrl)],
          policy: { oauthResource: 'as', extractPayload: true },
          global: binding === 'global',
        }),
      ],
      orderControllers(binding),
    ));
    client = clients.proxy(tcpClient(port));
    await client.connect();
  });
  afterAll(async () => {
    await clients.closeAll();
    await microservice?.close();
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    calls.clear();
    server.tokens.set('good', GOOD);
  });

  describe('@MessagePattern', () => {
    it("answers for a valid token in the message's authorization member, with the parameter decorators", async () => {
      await expect(sendAndSettle(client, 'whoami', { authorization: 'Bearer good', n: 1 })).resolves.toEqual({
        answer: { n: 1, clientId: 'c1', sub: 'alice', authorizationSeen: true },
      });
      expect(server.requestsTo('/introspect')[0].form.get('token')).toBe('good');
    });

    it.each([
      ['no token', { n: 1 }, 'OAUTH2_MISSING_HEADER'],
      ['an inactive token', { authorization: 'Bearer unknown', n: 1 }, 'OAUTH2_INVALID_ACCESS_TOKEN'],
      ['an authorization without the Bearer scheme', { authorization: 'Basic abc', n: 1 }, 'OAUTH2_MISSING_HEADER'],
      ['a malformed token', { authorization: 'Bearer a b', n: 1 }, 'OAUTH2_INVALID_ACCESS_TOKEN'],
    ] as const)(
      "rejects %s: the client's Observable errors with { key, statusCode, message }",
      async (_name, data, key) => {
        await expect(sendAndSettle(client, 'whoami', data)).resolves.toEqual({ error: transportError(key) });
        expect(calls.of('whoami')).toEqual([]);
      },
    );

    it('rejects a token without the required scope: OAUTH2_INSUFFICIENT_SCOPE, 403', async () => {
      await expect(sendAndSettle(client, 'write', { authorization: 'Bearer good' })).resolves.toEqual({
        error: transportError('OAUTH2_INSUFFICIENT_SCOPE'),
      });
      server.tokens.set('writer', { active: true, scope: 'orders:write' });
      await expect(sendAndSettle(client, 'write', { authorization: 'Bearer writer' })).resolves.toEqual({
        answer: { written: true },
      });
    });

    it('policy.propagateAuthHeader: false removes authorization from the data the handler sees', async () => {
      await expect(sendAndSettle(client, 'no-propagation', { authorization: 'Bearer good', n: 1 })).resolves.toEqual({
        answer: { keys: ['n'] },
      });
    });

    it("an OAuth2Exception thrown by the handler reaches the client as { key, statusCode, message } (the module's APP_FILTER)", async () => {
      await expect(sendAndSettle(client, 'app-throws', { authorization: 'Bearer good' })).resolves.toEqual({
        error: transportError('OAUTH2_INSUFFICIENT_SCOPE'),
      });
    });
  });

  describe('@EventPattern', () => {
    it('runs the handler for a valid token, never for a missing or inactive one', async () => {
      client.emit('order.created', { id: 'no-token' });
      client.emit('order.created', { id: 'inactive', authorization: 'Bearer unknown' });
      client.emit('order.created', { id: 'valid', authorization: 'Bearer good' });
      await expect(calledTimes('order.created', 1)).resolves.toEqual([{ id: 'valid', clientId: 'c1' }]);
      // The two rejected events were introspected or refused before the valid one's handler ran; give
      // any late handler call a moment to show up.
      await sleep(100);
      expect(calls.of('order.created')).toEqual([{ id: 'valid', clientId: 'c1' }]);
    });
  });
});

describe('a TCP microservice with transports.tokenExtractors.rpc', () => {
  const server = new ScriptedIntrospectionServer();
  const clients = new ClientTracker();
  let microservice: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    const asUrl = await server.start();
    server.tokens.set('good', GOOD);
    let port: number;
    ({ microservice, port } = await startMicroservice(
      [
        OAuth2Module.forRoot({
          resources: [genericResource('as', asUrl)],
          policy: { oauthResource: 'as', extractPayload: true },
          global: true,
          transports: {
            tokenExtractors: {
              rpc: (context: ExecutionContext) => {
                const meta = context.switchToRpc().getData<{ meta?: { token?: unknown } }>().meta;
                return typeof meta?.token === 'string' ? `Bearer ${meta.token}` : undefined;
              },
            },
          },
        }),
      ],
      orderControllers('global'),
    ));
    client = clients.proxy(tcpClient(port));
    await client.connect();
  });
  afterAll(async () => {
    await clients.closeAll();
    await microservice?.close();
    await server.stop();
  });

  it('reads the token where the extractor says, and no longer from authorization', async () => {
    await expect(sendAndSettle(client, 'whoami', { meta: { token: 'good' }, n: 2 })).resolves.toEqual({
      answer: { n: 2, clientId: 'c1', sub: 'alice', authorizationSeen: false },
    });
    await expect(sendAndSettle(client, 'whoami', { authorization: 'Bearer good', n: 3 })).resolves.toEqual({
      error: transportError('OAUTH2_MISSING_HEADER'),
    });
    await expect(sendAndSettle(client, 'whoami', { meta: { token: 'unknown' } })).resolves.toEqual({
      error: transportError('OAUTH2_INVALID_ACCESS_TOKEN'),
    });
  });
});
