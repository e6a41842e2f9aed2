import { Body, Controller, Get, HttpCode, INestApplication, Post, UseGuards } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  OAuth2Attribute,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Policy,
  RequiredScopes,
  TokenCache,
  TokenCacheRegistry,
} from '../../lib';
import { genericResource, nowSeconds, resettable, sleep } from '../support/guard-e2e-helpers';
import { AdapterName, RecordingLogger, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { describeWithRedis, RedisServer } from '../support/redis-server';

/**
 * Issue 4: several application instances share one Redis cache. Two real Nest applications (one on
 * Express, one on Fastify) point at one real redis-server and one scripted authorization server.
 */

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }

  @Get('admin')
  @RequiredScopes('admin')
  admin() {
    return { admin: true };
  }

  @Get('negative')
  @OAuth2Policy({ oauthCacheResource: 'shared-negative' })
  negative() {
    return { negative: true };
  }
}

/** Not guarded: a revocation webhook that evicts the token from every cache. */
@Controller('revoke')
class RevokeController {
  constructor(private readonly caches: TokenCacheRegistry) {}

  @Post()
  @HttpCode(204)
  async revoke(@Body() body: { token: string }): Promise<void> {
    await this.caches.evict(body.token);
  }
}

/** A token that looks like a real one: 43 random characters, so a search for its parts means something. */
const newToken = () => randomBytes(32).toString('base64url');

/** Every 12-character window of a token: none may appear in Redis. */
const windowsOf = (token: string) =>
  Array.from({ length: token.length - 11 }, (_, start) => token.slice(start, start + 12));

function appModule(introspectionUrl: string, redisUrl: string) {
  return {
    imports: [
      OAuth2Module.forRoot({
        resources: [genericResource('as', introspectionUrl)],
        caches: [
          { name: 'shared', type: 'redis', url: redisUrl, timeToLiveSeconds: 300 },
          { name: 'shared-negative', type: 'redis', url: redisUrl, negativeTimeToLiveSeconds: 30 },
        ],
        policy: { oauthResource: 'as', oauthCacheResource: 'shared' },
      }),
    ],
    controllers: [DataController, RevokeController],
  };
}

describeWithRedis('a Redis cache shared by two application instances', () => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let redis: RedisServer;
  const instances: Array<{ adapter: AdapterName; app: INestApplication; logger: RecordingLogger }> = [];

  const introspections = () => server.requestsTo('/introspect').length;
  const get = (instance: number, path: string, token: string) =>
    request(instances[instance].app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  function activeToken(payload: Record<string, unknown> = {}): string {
    const token = newToken();
    server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read', ...payload });
    return token;
  }

  beforeAll(async () => {
    const [url, started] = await Promise.all([server.start(), RedisServer.start()]);
    redis = started;
    for (const adapter of ['express', 'fastify'] as const) {
      const logger = new RecordingLogger();
      instances.push({ adapter, app: await startApp(adapter, appModule(url, redis.url), logger), logger });
    }
  });
  afterAll(async () => {
    await Promise.all(instances.map(({ app }) => app.close()));
    await server.stop();
    await redis.stop();
  });
  beforeEach(() => resetServer());

  it('an answer introspected by one instance serves the other: one introspection for both', async () => {
    const token = activeToken();
    await get(0, '/data', token).expect(200, { clientId: 'c1' });
    expect(introspections()).toBe(1);
    await get(1, '/data', token).expect(200, { clientId: 'c1' });
    await get(0, '/data', token).expect(200, { clientId: 'c1' });
    await get(1, '/data', token).expect(200, { clientId: 'c1' });
    expect(introspections()).toBe(1);
  });

  it("the scope check runs on the other instance's entry too", async () => {
    const token = activeToken({ scope: 'read' });
    await get(0, '/data', token).expect(200);
    const denied = await get(1, '/data/admin', token);
    expect(denied.status).toBe(403);
    expect(denied.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
    expect(introspections()).toBe(1);
  });

  it('inactive tokens are not shared without negativeTimeToLiveSeconds, and are with it', async () => {
    const inactive = newToken();
    expect((await get(0, '/data', inactive)).status).toBe(401);
    expect((await get(1, '/data', inactive)).status).toBe(401);
    expect(introspections()).toBe(2);

    const sprayed = newToken();
    for (const instance of [0, 1, 0, 1]) {
      const response = await get(instance, '/data/negative', sprayed);
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    }
    expect(introspections()).toBe(3);
  });

  it('a token evicted on one instance (revocation webhook) is introspected again by the other', async () => {
    const token = activeToken();
    await get(0, '/data', token).expect(200);
    await get(1, '/data', token).expect(200);
    expect(introspections()).toBe(1);

    server.tokens.delete(token); // the authorization server revoked it
    await request(instances[0].app.getHttpServer()).post('/revoke').send({ token }).expect(204);

    const refused = await get(1, '/data', token);
    expect(refused.status).toBe(401);
    expect(refused.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    expect(introspections()).toBe(2);
  });

  it('Redis holds no token, whole or in part: keys are prefixed hashes, values the payloads, TTLs bounded', async () => {
    const exp = nowSeconds() + 120;
    const tokens = [activeToken(), activeToken({ exp }), newToken()];
    await get(0, '/data', tokens[0]).expect(200);
    await get(1, '/data', tokens[1]).expect(200);
    await get(0, '/data/negative', tokens[2]).expect(401);

    const rows = await redis.dump();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const { key, value, ttlMs } of rows) {
      expect(key).toMatch(/^oauth2:shared(-negative)?:[A-Za-z0-9_-]{43}$/);
      for (const token of tokens) {
        for (const part of windowsOf(token)) {
          expect(key).not.toContain(part);
          expect(value).not.toContain(part);
        }
      }
      expect(() => JSON.parse(value)).not.toThrow();
      expect(ttlMs).toBeGreaterThan(0);
      expect(ttlMs).toBeLessThanOrEqual(300_000);
    }
    const bounded = rows.find(({ value }) => (JSON.parse(value).value.payload?.exp as number | undefined) === exp);
    expect(bounded).toBeDefined();
    expect(bounded!.ttlMs).toBeLessThanOrEqual(120_000);
    const negative = rows.filter(({ key }) => key.startsWith('oauth2:shared-negative:'));
    expect(negative.map(({ value }) => JSON.parse(value).value)).toContainEqual({ active: false });
    expect(negative.every(({ ttlMs }) => ttlMs <= 30_000)).toBe(true);
  });

  it('a hit does not extend an entry: its TTL in Redis only goes down', async () => {
    const token = activeToken();
    await get(0, '/data', token).expect(200);
    const key = `oauth2:shared:${TokenCache.key('as', token)}`;
    const ttlOf = async () => (await redis.dump()).find((row) => row.key === key)?.ttlMs;
    const first = await ttlOf();
    expect(first).toBeGreaterThan(0);
    await sleep(50);
    for (const instance of [0, 1, 0, 1, 0]) {
      await get(instance, '/data', token).expect(200);
    }
    expect(introspections()).toBe(1);
    expect(await ttlOf()).toBeLessThan(first!);
  });

  it('no log line of either instance mentions a token', async () => {
    const token = activeToken();
    await get(0, '/data', token).expect(200);
    await get(1, '/data', token).expect(200);
    for (const { logger } of instances) {
      for (const line of logger.lines) {
        expect(line).not.toContain(token.slice(0, 12));
      }
    }
  });
});
