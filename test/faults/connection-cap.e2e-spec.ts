import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, type OAuth2ResourceOptions } from '../../lib';
import { reportFigure } from '../support/fault-report';
import { genericResource, startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { CountingServer, inBatches } from './counting-server';

/**
 * Issue 12, point 6 (connections): each resource keeps at most `http.maxConcurrentConnections`
 * connections open to its authorization server (64 by default). A burst of distinct cold tokens waits
 * for a free connection instead of opening one socket per request, and a request that waits still
 * answers within its timeout, the wait included. Connections are counted on the server's side.
 */

@Controller('c')
@UseGuards(OAuth2Guard)
class CapController {
  @Get('default')
  capDefault() {
    return { ok: true };
  }
}

/** Distinct tokens, each cold (never seen before). */
const tokens = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}-${index}`);

describe.each(ADAPTERS)('connection cap to the authorization server, on %s', (adapter) => {
  const server = new CountingServer();
  let app: INestApplication;

  const resources = (url: string): OAuth2ResourceOptions[] => [
    // The breaker is off: these tests are about connections, and the hanging server fails on purpose.
    genericResource('default', url, { timeout: 10_000, circuitBreaker: false }),
    genericResource('small', url, { timeout: 10_000, circuitBreaker: false, http: { maxConcurrentConnections: 4 } }),
    genericResource('queued', url, { timeout: 400, circuitBreaker: false, http: { maxConcurrentConnections: 2 } }),
  ];
  const call = (resource: string, token: string) =>
    request(app.getHttpServer()).get(`/c/default?r=${resource}`).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: resources(url),
          policy: {
            oauthResource: (context) =>
              String(context.switchToHttp().getRequest<{ query: Record<string, string> }>().query.r),
          },
        }),
      ],
      controllers: [CapController],
    });
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  beforeEach(async () => {
    server.answerFor = () => ({ kind: 'answer', body: { active: true }, delayMs: 40 });
    await server.reset();
  });

  it('opens at most 64 connections by default, for a burst of 300 distinct cold tokens', async () => {
    const statuses = await inBatches(
      tokens(`${adapter}-d`, 300),
      300,
      async (token) => (await call('default', token)).status,
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(server.requests).toBe(300);
    expect(server.maxOpenConnections).toBeLessThanOrEqual(64);
    // The cap is used, not a trickle: the burst does run in parallel.
    expect(server.maxOpenConnections).toBeGreaterThan(4);
    reportFigure({
      test: 'connection cap, default',
      adapter,
      requests: 300,
      maxOpenConnections: server.maxOpenConnections,
    });
  });

  it('honours http.maxConcurrentConnections', async () => {
    const statuses = await inBatches(
      tokens(`${adapter}-s`, 60),
      60,
      async (token) => (await call('small', token)).status,
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(server.maxOpenConnections).toBeLessThanOrEqual(4);
  });

  it('answers a request that waits for a connection within its timeout, the wait included', async () => {
    server.answerFor = () => ({ kind: 'hang' });
    // Two hang on the two connections; the eighteen others wait in the queue. Without the wait counted,
    // they would time out one pair after the other: the last after 10 x 400 ms.
    const started = Date.now();
    const answers = await inBatches(tokens(`${adapter}-q`, 20), 20, async (token) => {
      const sent = Date.now();
      const response = await call('queued', token);
      return { status: response.status, key: (response.body as { key?: string }).key, ms: Date.now() - sent };
    });
    expect(answers.map((answer) => answer.key)).toEqual(new Array(20).fill('OAUTH2_SERVER_UNAVAILABLE'));
    // 400 ms timeout; a generous margin for a loaded machine, well below the 4,000 ms of a serial queue.
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(2000);
    expect(Date.now() - started).toBeLessThan(2500);
    // Two, plus the two destroyed at the timeout: the agent may open their replacements for queued
    // requests before the server has seen them close (seen once in CI: 3). The cap itself is pinned
    // exactly by the two tests above, where no socket is destroyed.
    expect(server.maxOpenConnections).toBeLessThanOrEqual(4);
  });
});

describe.each(ADAPTERS)('http.maxConcurrentConnections at start-up, on %s', (adapter) => {
  it.each([
    [0, 'must not be less than 1'],
    [1.5, 'must be an integer'],
    ['64', 'must be an integer'],
  ])('refuses %p, naming the field', async (value, message) => {
    const error = await startupError(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            genericResource('as', 'http://127.0.0.1:9', {
              http: { maxConcurrentConnections: value as number },
            }),
          ],
          policy: { oauthResource: 'as' },
        }),
      ],
    });
    expect(error.message).toContain('resources[0].http.maxConcurrentConnections');
    expect(error.message).toContain(message);
  });

  it('refuses an http option that is not an object', async () => {
    const error = await startupError(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', 'http://127.0.0.1:9', { http: 64 as never })],
          policy: { oauthResource: 'as' },
        }),
      ],
    });
    expect(error.message).toContain('resources[0].http must be an object');
  });
});
