import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Attribute, type OAuth2CacheResourceOptions, OAuth2Guard, OAuth2Module, RequiredScopes } from '../../lib';
import { genericResource, nowSeconds, sleep } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { describeWithRedis, RedisServer } from '../support/redis-server';
import { OpenTelemetrySdk } from '../telemetry/otel-sdk';

/**
 * Issue 15, item 3: stale-if-error. A cache with `staleIfErrorSeconds` keeps an active entry that
 * long past its freshness, and serves it only when the authorization server is unavailable (a 5xx,
 * then the circuit the failures opened); `exp`, `nbf` and scopes are still checked; an inactive answer
 * is never served stale; the request is marked (`oauth.stale`) and counted (`oauth2.cache.lookups`
 * with `result: 'stale'`). In memory and in a real Redis, on Express and Fastify.
 */

@Controller('s')
@UseGuards(OAuth2Guard)
class StaleController {
  @Get()
  read(@OAuth2Attribute('oauth.stale') stale: unknown) {
    return { stale: stale ?? null };
  }

  @Get('admin')
  @RequiredScopes('admin')
  admin() {
    return { admin: true };
  }
}

const sdk = new OpenTelemetrySdk();

beforeAll(() => {
  sdk.register();
});

afterAll(async () => {
  await sdk.shutdown();
});

describe.each(ADAPTERS)('stale-if-error, on %s with a memory cache', (adapter) => {
  scenario(adapter, 'memory', () => undefined);
});

describeWithRedis('stale-if-error with a Redis cache', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  describe.each(ADAPTERS)('on %s', (adapter) => {
    scenario(adapter, 'redis', () => redis.url);
  });
});

/** The scenario, with a memory cache, or a Redis cache at the URL `redisUrl()` gives once Redis runs. */
function scenario(
  adapter: (typeof ADAPTERS)[number],
  store: 'memory' | 'redis',
  redisUrl: () => string | undefined,
): void {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;
  let down = false;
  const cacheName = `${adapter}-${store}-stale`;
  const plainName = `${adapter}-${store}-plain`;
  const introspections = () => server.requestsTo('/introspect').length;
  const get = (path: string, token: string, cache = cacheName) =>
    request(app.getHttpServer()).get(`${path}?c=${cache}`).set('Authorization', `Bearer ${token}`);
  const stale = () => sdk.sum('oauth2.cache.lookups', { cache: cacheName, result: 'stale' });

  beforeAll(async () => {
    const url = await server.start();
    const defaultScript = server.script;
    server.script = (received, token) => (down ? { status: 503, body: {} } : defaultScript(received, token));
    const cache = (name: string, staleIfErrorSeconds?: number): OAuth2CacheResourceOptions => {
      const common = { name, timeToLiveSeconds: 1, negativeTimeToLiveSeconds: 1, staleIfErrorSeconds };
      return store === 'redis' ? { ...common, type: 'redis', url: redisUrl() as string } : common;
    };
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url, { circuitBreaker: { failureThreshold: 1, coolDownSeconds: 1 } })],
          caches: [cache(cacheName, 60), cache(plainName)],
          policy: {
            oauthResource: 'as',
            oauthCacheResource: (context) =>
              context.switchToHttp().getRequest<{ query: Record<string, string> }>().query.c,
          },
        }),
      ],
      controllers: [StaleController],
    });
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  it('serves a just-expired active entry while the server is down, checks it, and only that', async () => {
    const token = `${adapter}-${store}-active`;
    const expiring = `${adapter}-${store}-expiring`;
    const inactive = `${adapter}-${store}-inactive`;
    const plain = `${adapter}-${store}-plain-token`;
    server.tokens.set(token, { active: true, scope: 'read', exp: nowSeconds() + 600 });
    server.tokens.set(expiring, { active: true, scope: 'read', exp: nowSeconds() + 2 });
    server.tokens.set(plain, { active: true, scope: 'read', exp: nowSeconds() + 600 });

    await get('/s', token).expect(200, { stale: null });
    await get('/s', expiring).expect(200, { stale: null });
    await get('/s', inactive).expect(401);
    await get('/s', plain, plainName).expect(200, { stale: null });
    expect(introspections()).toBe(4);
    // Past every entry's freshness (1 s), and past the expiring token's `exp` (2 s), when its entry
    // goes from the store (it is never kept past `exp`): a later start only makes it more so.
    await sleep(3200);
    const staleBefore = await stale();
    down = true;

    // Fresh no more: introspected, the server fails, the stale entry is served, and marked.
    await get('/s', token).expect(200, { stale: true });
    expect(introspections()).toBe(5);
    // The failure opened the circuit: no call to the server now, and the stale entry still serves.
    await get('/s', token).expect(200, { stale: true });
    expect(introspections()).toBe(5);
    // Scopes are checked on a stale entry as on any other.
    await get('/s/admin', token)
      .expect(403)
      .expect((response) => {
        expect(response.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
      });
    // Never past the token's `exp`; never an inactive answer; never from a cache without the option.
    for (const [other, cache] of [
      [expiring, cacheName],
      [inactive, cacheName],
      [plain, plainName],
    ]) {
      await get('/s', other, cache)
        .expect(403)
        .expect((response) => {
          expect(response.body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
        });
    }
    expect(await stale()).toBe(staleBefore + 3);

    // The server is back: once the circuit lets its probe through, the answer is fresh again.
    down = false;
    await sleep(1100);
    await get('/s', token).expect(200, { stale: null });
    expect(introspections()).toBe(6);
    expect(await stale()).toBe(staleBefore + 3);
  });
}
