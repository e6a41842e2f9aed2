import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module } from '../../lib';
import { OAuth2HealthIndicator } from '../../lib/terminus';
import { CountingServer } from '../faults/counting-server';
import { refusedUrl } from '../support/e2e-kit';
import { genericResource, sleep } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { describeWithRedis, RedisServer } from '../support/redis-server';

/**
 * Issue 15, item 1: `OAuth2HealthIndicator` with the real `TerminusModule`, on Express and Fastify.
 * Each resource's server is probed with a throwaway introspection (up: a valid answer or a 4xx; down:
 * refused, slower than the resource's timeout, a 5xx), around the circuit breaker and the caches;
 * each Redis cache with a PING.
 */

/** The timeout of the slow resource, far below its server's delay. */
const SLOW_TIMEOUT_MS = 200;
/** How long the slow server takes to answer. */
const SLOW_SERVER_DELAY_MS = 3000;

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly oauth2: OAuth2HealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.oauth2.check()]);
  }
}

@Controller('guarded')
@UseGuards(OAuth2Guard)
class GuardedController {
  @Get()
  read() {
    return { ok: true };
  }
}

interface HealthBody {
  status: string;
  details: Record<string, Record<string, unknown>>;
}

describe.each(ADAPTERS)('OAuth2HealthIndicator with TerminusModule, on %s', (adapter) => {
  const up = new CountingServer();
  const slow = new CountingServer();
  const refusing = new CountingServer();
  const failing = new CountingServer();
  const fragile = new CountingServer();
  const probeTokens: string[] = [];
  let app: INestApplication;
  let onlyUp: INestApplication;

  const health = async (target: INestApplication) => {
    const response = await request(target.getHttpServer()).get('/health');
    return { status: response.status, body: response.body as HealthBody, text: response.text };
  };

  beforeAll(async () => {
    const upUrl = await up.start();
    up.answerFor = (token) => {
      probeTokens.push(token ?? '');
      return { kind: 'answer', body: { active: false } };
    };
    const slowUrl = await slow.start();
    slow.answerFor = () => ({ kind: 'answer', body: { active: false }, delayMs: SLOW_SERVER_DELAY_MS });
    const refusingUrl = await refusing.start();
    refusing.answerFor = () => ({ kind: 'answer', status: 401, body: { error: 'invalid_client' } });
    const failingUrl = await failing.start();
    failing.answerFor = () => ({ kind: 'answer', status: 503, body: { error: 'down' } });
    const fragileUrl = await fragile.start();
    fragile.answerFor = () => ({ kind: 'answer', status: 500, body: { error: 'boom' } });
    const refused = await refusedUrl();
    const modules = (resources: Parameters<typeof OAuth2Module.forRoot>[0]['resources']) => ({
      imports: [
        OAuth2Module.forRoot({
          resources,
          caches: [{ name: 'local', timeToLiveSeconds: 300 }],
          policy: {
            oauthResource: (context) =>
              String(context.switchToHttp().getRequest<{ query: Record<string, string> }>().query.r),
            oauthCacheResource: 'local',
          },
          errorProfile: 'rfc',
        }),
        TerminusModule,
      ],
      controllers: [HealthController, GuardedController],
      providers: [OAuth2HealthIndicator],
    });
    app = await startApp(
      adapter,
      modules([
        genericResource('up', upUrl),
        genericResource('slow', slowUrl, { timeout: SLOW_TIMEOUT_MS }),
        genericResource('refused', refused, { circuitBreaker: { failureThreshold: 1, coolDownSeconds: 60 } }),
        genericResource('client-refused', refusingUrl),
        genericResource('failing', failingUrl),
        genericResource('fragile', fragileUrl, { circuitBreaker: { failureThreshold: 1, coolDownSeconds: 60 } }),
      ]),
    );
    onlyUp = await startApp(adapter, modules([genericResource('up', upUrl)]));
  });

  afterAll(async () => {
    await app?.close();
    await onlyUp?.close();
    await Promise.all([up, slow, refusing, failing, fragile].map((server) => server.stop()));
  });

  it('answers 200 "ok" when every server answers, with a throwaway token that is never cached', async () => {
    probeTokens.length = 0;
    const before = up.requests;
    const { status, body } = await health(onlyUp);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.details).toEqual({
      'oauth2:resource:up': {
        status: 'up',
        resource: 'up',
        latencyMs: expect.any(Number),
        circuit: 'closed',
        httpStatus: 200,
      },
    });
    expect(up.requests - before).toBe(1);
    expect(probeTokens).toHaveLength(1);
    expect(probeTokens[0]).toMatch(/^health-check\.[A-Za-z0-9_-]{32}$/);

    // Another check spends another introspection: its answer was not cached.
    await health(onlyUp);
    expect(up.requests - before).toBe(2);
    expect(new Set(probeTokens).size).toBe(2);
  });

  it('reports each resource: up, 4xx up, refused, slow and 5xx down, with 503 "error" overall', async () => {
    const started = Date.now();
    const { status, body, text } = await health(app);
    expect(Date.now() - started).toBeLessThan(SLOW_SERVER_DELAY_MS);
    expect(status).toBe(503);
    expect(body.status).toBe('error');
    const details = body.details;
    expect(Object.keys(details).sort()).toEqual(
      ['client-refused', 'failing', 'fragile', 'refused', 'slow', 'up'].map((name) => `oauth2:resource:${name}`),
    );
    expect(details['oauth2:resource:up']).toMatchObject({ status: 'up', httpStatus: 200, circuit: 'closed' });
    expect(details['oauth2:resource:client-refused']).toMatchObject({ status: 'up', httpStatus: 401 });
    expect(details['oauth2:resource:refused']).toMatchObject({
      status: 'down',
      resource: 'refused',
      reason: expect.stringContaining('could not be reached'),
    });
    expect(details['oauth2:resource:slow']).toMatchObject({
      status: 'down',
      reason: `did not answer within ${SLOW_TIMEOUT_MS} ms`,
    });
    expect(details['oauth2:resource:slow'].latencyMs as number).toBeGreaterThanOrEqual(SLOW_TIMEOUT_MS - 20);
    expect(details['oauth2:resource:slow'].latencyMs as number).toBeLessThan(SLOW_SERVER_DELAY_MS);
    expect(details['oauth2:resource:failing']).toMatchObject({
      status: 'down',
      httpStatus: 503,
      reason: 'answered HTTP 503',
    });
    // No secret, token or address in the answer.
    expect(text).not.toMatch(/api-secret|health-check\.|127\.0\.0\.1|Basic /);
  });

  it('neither opens nor closes a circuit, and reports an open one', async () => {
    // Checks of a refused server, whose circuit opens after one failure: it stays closed.
    for (let i = 0; i < 3; i++) {
      const { body } = await health(app);
      expect(body.details['oauth2:resource:refused']).toMatchObject({ status: 'down', circuit: 'closed' });
    }
    // A real request opens the fragile resource's circuit; the check reports it, and still probes.
    const guarded = await request(app.getHttpServer()).get('/guarded?r=fragile').set('Authorization', 'Bearer t-1');
    expect(guarded.status).toBe(503);
    const before = fragile.requests;
    const { body } = await health(app);
    expect(body.details['oauth2:resource:fragile']).toMatchObject({
      status: 'down',
      circuit: 'open',
      httpStatus: 500,
    });
    expect(fragile.requests - before).toBe(1);
    // The health check's answer did not close it: requests still fail at once, without a call.
    fragile.answerFor = () => ({ kind: 'answer', body: { active: false } });
    const { body: after } = await health(app);
    expect(after.details['oauth2:resource:fragile']).toMatchObject({ status: 'up', circuit: 'open' });
    const calls = fragile.requests;
    const again = await request(app.getHttpServer()).get('/guarded?r=fragile').set('Authorization', 'Bearer t-2');
    expect(again.status).toBe(503);
    expect(fragile.requests).toBe(calls);
  });
});

describeWithRedis('OAuth2HealthIndicator: Redis caches', () => {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    const server = new CountingServer();
    let redis: RedisServer;
    let app: INestApplication;

    const health = async () => {
      const response = await request(app.getHttpServer()).get('/health');
      return { status: response.status, body: response.body as HealthBody, text: response.text };
    };

    beforeAll(async () => {
      const url = await server.start();
      server.answerFor = () => ({ kind: 'answer', body: { active: false } });
      redis = await RedisServer.start({ password: 'redis-secret' });
      app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            caches: [
              { name: 'local', timeToLiveSeconds: 300 },
              {
                name: 'shared',
                type: 'redis',
                url: redis.url,
                password: 'redis-secret',
                timeout: 500,
                negativeTimeToLiveSeconds: 60,
              },
            ],
            policy: { oauthResource: 'as', oauthCacheResource: 'shared' },
          }),
          TerminusModule,
        ],
        controllers: [HealthController],
        providers: [OAuth2HealthIndicator],
      });
    });

    afterAll(async () => {
      await app?.close();
      await redis?.stop();
      await server.stop();
    });

    it('PINGs each Redis cache (not the memory one), writes nothing, and sees it go down and come back', async () => {
      const { status, body, text } = await health();
      expect(status).toBe(200);
      expect(body.details).toEqual({
        'oauth2:resource:as': expect.objectContaining({ status: 'up' }),
        'oauth2:cache:shared': { status: 'up', cache: 'shared', latencyMs: expect.any(Number) },
      });
      expect(text).not.toContain('redis-secret');
      // The probe's inactive answer was not cached, though the cache keeps inactive answers.
      expect(await redis.dump()).toEqual([]);

      await redis.kill();
      const down = await health();
      expect(down.status).toBe(503);
      expect(down.body.details['oauth2:cache:shared']).toMatchObject({
        status: 'down',
        cache: 'shared',
        reason: expect.any(String),
      });
      expect(down.body.details['oauth2:resource:as']).toMatchObject({ status: 'up' });
      expect(down.text).not.toContain('redis-secret');

      await redis.restart();
      let status2 = 0;
      for (let i = 0; i < 50 && status2 !== 200; i++) {
        await sleep(100);
        status2 = (await health()).status;
      }
      expect(status2).toBe(200);
    });
  });
});
