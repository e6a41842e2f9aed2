import KeyvRedis from '@keyv/redis';
import { Body, Controller, Get, HttpCode, INestApplication, Post, UseGuards } from '@nestjs/common';
import { CacheModule } from '@nestjs/cache-manager';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { OAuth2Attribute, OAuth2Guard, OAuth2Module, TokenCache, TokenCacheRegistry } from '../../lib';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { type AdapterName, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { describeWithRedis, RedisServer } from '../support/redis-server';

/**
 * Issue 10: two application instances whose own CacheModule (the real @nestjs/cache-manager) keeps
 * its entries in one real Redis through @keyv/redis; their `cache-module` caches share entries.
 */

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
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
      CacheModule.register({ isGlobal: true, stores: [new KeyvRedis(redisUrl)] }),
      OAuth2Module.forRoot({
        resources: [genericResource('as', introspectionUrl)],
        caches: [{ name: 'app', type: 'cache-module' }],
        policy: { oauthResource: 'as', oauthCacheResource: 'app' },
      }),
    ],
    controllers: [DataController, RevokeController],
  };
}

describeWithRedis("a 'cache-module' cache over a CacheModule in Redis, shared by two instances", () => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let redis: RedisServer;
  const instances: Array<{ adapter: AdapterName; app: INestApplication }> = [];

  const introspections = () => server.requestsTo('/introspect').length;
  const get = (instance: number, token: string) =>
    request(instances[instance].app.getHttpServer()).get('/data').set('Authorization', `Bearer ${token}`);
  function activeToken(): string {
    const token = newToken();
    server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });
    return token;
  }

  beforeAll(async () => {
    const [url, started] = await Promise.all([server.start(), RedisServer.start()]);
    redis = started;
    for (const adapter of ['express', 'fastify'] as const) {
      instances.push({ adapter, app: await startApp(adapter, appModule(url, redis.url)) });
    }
  });
  afterAll(async () => {
    await Promise.all(instances.map(({ app }) => app.close()));
    await server.stop();
    await redis?.stop();
  });
  beforeEach(() => resetServer());

  it('an answer introspected by one instance serves the other: one introspection for both', async () => {
    const token = activeToken();
    await get(0, token).expect(200, { clientId: 'c1' });
    await get(1, token).expect(200, { clientId: 'c1' });
    await get(0, token).expect(200, { clientId: 'c1' });
    await get(1, token).expect(200, { clientId: 'c1' });
    expect(introspections()).toBe(1);
  });

  it('Redis holds the entry under the prefix and a hash, with a TTL, and nothing of the token', async () => {
    const token = activeToken();
    await get(1, token).expect(200);
    const rows = await redis.dump();
    const key = `oauth2:app:${TokenCache.key('as', token)}`;
    const row = rows.find((candidate) => candidate.key === key);
    expect(row).toBeDefined();
    expect(row!.ttlMs).toBeGreaterThan(0);
    expect(row!.ttlMs).toBeLessThanOrEqual(300_000);
    for (const { key: held, value } of rows) {
      for (const part of windowsOf(token)) {
        expect(held).not.toContain(part);
        expect(value).not.toContain(part);
      }
    }
  });

  it('a token evicted on one instance is introspected again by the other', async () => {
    const token = activeToken();
    await get(0, token).expect(200);
    await get(1, token).expect(200);
    expect(introspections()).toBe(1);

    server.tokens.delete(token); // the authorization server revoked it
    await request(instances[0].app.getHttpServer()).post('/revoke').send({ token }).expect(204);

    const refused = await get(1, token);
    expect(refused.status).toBe(401);
    expect(refused.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    expect(introspections()).toBe(2);
  });
});
