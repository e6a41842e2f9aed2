import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { OAuth2Attribute, OAuth2Guard, OAuth2Module, TokenCacheRegistry } from '../../lib';
import { genericResource, resettable, sleep } from '../support/guard-e2e-helpers';
import { ADAPTERS, AdapterName, RecordingLogger, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { describeWithRedis, RedisServer } from '../support/redis-server';

/**
 * Issue 4: a Redis that goes away never fails or delays a request. The cache's call timeout is set
 * to 5 s here (but in the stuck-Redis test), far above what is asserted, so a request that waited on
 * Redis at all would show, while a loaded machine's slow request (measured up to 1.2 s on a saturated
 * two-core machine) does not fail the test.
 */

/** The call timeout of the cache under test: any request that waited for Redis would take this long. */
const CACHE_TIMEOUT_MS = 5000;
/** What "without delay" means here: a local introspection round trip, with room for a saturated machine. */
const NO_DELAY_MS = 1500;
/** The call timeout of the stuck-Redis test, where the timeout is what bounds a request. */
const STUCK_TIMEOUT_MS = 200;
/** Bound of the wait for caching to resume after Redis is back (reconnect back-off ≤ 1 s, retry pause 1 s). */
const RESUME_WITHIN_MS = 6000;

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }
}

function appModule(introspectionUrl: string, redisUrl: string, timeout = CACHE_TIMEOUT_MS) {
  return {
    imports: [
      OAuth2Module.forRoot({
        resources: [genericResource('as', introspectionUrl)],
        caches: [{ name: 'shared', type: 'redis', url: redisUrl, timeout }],
        policy: { oauthResource: 'as', oauthCacheResource: 'shared' },
      }),
    ],
    controllers: [DataController],
  };
}

const warningsOf = (logger: RecordingLogger) =>
  logger.lines.filter((line) => line.startsWith("warn cache 'shared' fails"));
const recoveriesOf = (logger: RecordingLogger) =>
  logger.lines.filter((line) => line.startsWith("log cache 'shared' works again"));

describeWithRedis('a Redis cache during a Redis outage', () => {
  describe.each(ADAPTERS)('on %s', (adapter: AdapterName) => {
    const server = new ScriptedIntrospectionServer();
    const resetServer = resettable(server);
    let introspectionUrl: string;
    const apps: INestApplication[] = [];
    const redises: RedisServer[] = [];

    const introspections = () => server.requestsTo('/introspect').length;
    function activeToken(): string {
      const token = randomBytes(32).toString('base64url');
      server.tokens.set(token, { active: true, client_id: 'c1' });
      return token;
    }
    async function timedGet(app: INestApplication, token: string): Promise<number> {
      const started = performance.now();
      await request(app.getHttpServer())
        .get('/data')
        .set('Authorization', `Bearer ${token}`)
        .expect(200, { clientId: 'c1' });
      return performance.now() - started;
    }
    /** Polls (bounded) until a second request with a token is served from the cache; the time it took. */
    async function waitUntilCached(app: INestApplication, token: string): Promise<number> {
      const started = Date.now();
      while (Date.now() - started < RESUME_WITHIN_MS) {
        await timedGet(app, token);
        const after = introspections();
        await timedGet(app, token);
        if (introspections() === after) {
          return Date.now() - started;
        }
        await sleep(100);
      }
      throw new Error(`caching did not resume within ${RESUME_WITHIN_MS} ms`);
    }

    beforeAll(async () => {
      introspectionUrl = await server.start();
    });
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await Promise.all(redises.splice(0).map((redis) => redis.stop()));
    });
    afterAll(async () => {
      await server.stop();
    });
    beforeEach(() => resetServer());

    it('killing Redis mid-run keeps requests served by introspection without delay, warned once; a restart resumes caching', async () => {
      const redis = await RedisServer.start();
      redises.push(redis);
      const logger = new RecordingLogger();
      const app = await startApp(adapter, appModule(introspectionUrl, redis.url), logger);
      apps.push(app);
      const token = activeToken();
      await timedGet(app, token);
      await timedGet(app, token);
      expect(introspections()).toBe(1);

      await redis.kill();
      const sequential: number[] = [];
      for (let index = 0; index < 20; index++) {
        sequential.push(await timedGet(app, token));
      }
      expect(introspections()).toBe(21);
      const concurrent = await Promise.all(Array.from({ length: 20 }, () => timedGet(app, activeToken())));
      expect(Math.max(...sequential, ...concurrent)).toBeLessThan(NO_DELAY_MS);
      expect(warningsOf(logger)).toHaveLength(1);
      expect(warningsOf(logger)[0]).not.toContain(token.slice(0, 12));
      // An eviction cannot reach Redis: it says so, at once, so that a webhook can answer 5xx and be retried.
      const evicting = performance.now();
      await expect(app.get(TokenCacheRegistry).evict(token)).rejects.toMatchObject({
        name: 'TokenCacheEvictionError',
        caches: ['shared'],
      });
      expect(performance.now() - evicting).toBeLessThan(NO_DELAY_MS);

      await redis.restart();
      const resumedAfter = await waitUntilCached(app, token);
      expect(recoveriesOf(logger)).toHaveLength(1);
      expect(warningsOf(logger)).toHaveLength(1);
      console.info(
        `[${adapter}] Redis killed: 20 sequential requests max ${Math.max(...sequential).toFixed(1)} ms ` +
          `(median ${median(sequential).toFixed(1)} ms), 20 concurrent max ${Math.max(...concurrent).toFixed(1)} ms; ` +
          `caching resumed ${resumedAfter} ms after the restart`,
      );
    });

    it('a Redis that is connected but does not answer (SIGSTOP) costs a request at most the timeout, then nothing', async () => {
      const redis = await RedisServer.start();
      redises.push(redis);
      const logger = new RecordingLogger();
      const app = await startApp(adapter, appModule(introspectionUrl, redis.url, STUCK_TIMEOUT_MS), logger);
      apps.push(app);
      const token = activeToken();
      await timedGet(app, token);
      await timedGet(app, token);
      expect(introspections()).toBe(1);

      redis.pause();
      const first = await timedGet(app, token);
      const next: number[] = [];
      for (let index = 0; index < 10; index++) {
        next.push(await timedGet(app, token));
      }
      // The first request waits for the timeout; the store is then left alone for a second.
      expect(first).toBeGreaterThanOrEqual(STUCK_TIMEOUT_MS - 10);
      expect(first).toBeLessThan(STUCK_TIMEOUT_MS + NO_DELAY_MS);
      expect(Math.max(...next)).toBeLessThan(NO_DELAY_MS);
      expect(introspections()).toBe(12);
      expect(warningsOf(logger)).toEqual([expect.stringContaining('TimeoutError: no answer within 200 ms')]);

      redis.resume();
      const resumedAfter = await waitUntilCached(app, token);
      expect(recoveriesOf(logger)).toHaveLength(1);
      console.info(
        `[${adapter}] Redis paused: first request ${first.toFixed(0)} ms (timeout ${STUCK_TIMEOUT_MS} ms), ` +
          `the next 10 max ${Math.max(...next).toFixed(1)} ms; caching resumed ${resumedAfter} ms after it was thawed`,
      );
    });

    it('an application starts while Redis is down, serves requests, warns once, and caches once Redis is up', async () => {
      const redis = await RedisServer.start();
      redises.push(redis);
      await redis.kill();
      const logger = new RecordingLogger();
      const started = performance.now();
      const app = await startApp(adapter, appModule(introspectionUrl, redis.url), logger);
      const startMs = performance.now() - started;
      apps.push(app);
      expect(startMs).toBeLessThan(3000);
      expect(warningsOf(logger)).toEqual([expect.stringContaining("warn cache 'shared' fails (ECONNREFUSED)")]);

      const token = activeToken();
      const latencies = [await timedGet(app, token), await timedGet(app, token), await timedGet(app, token)];
      expect(introspections()).toBe(3);
      expect(Math.max(...latencies)).toBeLessThan(NO_DELAY_MS);

      await redis.restart();
      const resumedAfter = await waitUntilCached(app, token);
      expect(warningsOf(logger)).toHaveLength(1);
      console.info(
        `[${adapter}] started with Redis down in ${startMs.toFixed(0)} ms; caching began ${resumedAfter} ms after Redis came up`,
      );
    });
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
