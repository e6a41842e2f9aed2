import { Body, Controller, Get, HttpCode, INestApplication, Post, UseGuards } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, TokenCacheRegistry } from '../../lib';
import { genericResource, resettable, sleep } from '../support/guard-e2e-helpers';
import { type AdapterName, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { describeWithRedis, RedisServer } from '../support/redis-server';

/**
 * Issue 12, point 2, across instances: two applications (Express and Fastify) share one real Redis.
 * One instance is introspecting a token (the server answers after 400 ms, with the answer it had when
 * asked) when the other evicts it at 100 ms (its revocation webhook). The tombstone the eviction leaves
 * in Redis keeps the first instance from allowing the token on its stale answer, and from writing
 * that answer back for every instance to serve.
 */

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read() {
    return { ok: true };
  }
}

@Controller('revoke')
class RevokeController {
  constructor(private readonly caches: TokenCacheRegistry) {}

  @Post()
  @HttpCode(204)
  async revoke(@Body() body: { token: string }): Promise<void> {
    await this.caches.evict(body.token);
  }
}

const DELAY_MS = 400;

describeWithRedis('a token evicted by one instance while another introspects it (shared Redis)', () => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let redis: RedisServer;
  const instances: Array<{ adapter: AdapterName; app: INestApplication }> = [];

  const introspections = () => server.requestsTo('/introspect').length;
  const get = (instance: number, token: string) =>
    request(instances[instance].app.getHttpServer()).get('/data').set('Authorization', `Bearer ${token}`);
  const entryKey = (token: string) =>
    `oauth2:shared:${instances[0].app.get(TokenCacheRegistry).get('shared').keyOf('as', token)}`;

  beforeAll(async () => {
    const [url, started] = await Promise.all([server.start(), RedisServer.start()]);
    redis = started;
    for (const adapter of ['express', 'fastify'] as const) {
      const app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            caches: [{ name: 'shared', type: 'redis', url: redis.url, timeToLiveSeconds: 300 }],
            policy: { oauthResource: 'as', oauthCacheResource: 'shared' },
          }),
        ],
        controllers: [DataController, RevokeController],
      });
      instances.push({ adapter, app });
    }
  });
  afterAll(async () => {
    await Promise.all(instances.map(({ app }) => app.close()));
    await server.stop();
    await redis.stop();
  });
  beforeEach(() => {
    resetServer();
    const answer = server.script;
    server.script = async (received, token) => ({ ...(await answer(received, token)), delayMs: DELAY_MS });
  });

  async function untilIntrospected(count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (introspections() < count) {
      if (Date.now() > deadline) {
        throw new Error(`the server was not asked ${count} time(s)`);
      }
      await sleep(5);
    }
  }

  it.each([
    [0, 1],
    [1, 0],
  ])(
    'instance %i evicts while instance %i introspects: no instance allows the token, Redis keeps no entry of it',
    async (evicting, introspecting) => {
      const token = randomBytes(32).toString('base64url');
      server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });

      const inFlight = get(introspecting, token).then((response) => response);
      await untilIntrospected(1);
      const introspectedAt = Date.now();
      await sleep(100);
      server.tokens.delete(token); // the authorization server revoked it
      await request(instances[evicting].app.getHttpServer()).post('/revoke').send({ token }).expect(204);
      expect(Date.now() - introspectedAt).toBeLessThan(DELAY_MS);

      const refused = await inFlight;
      // The stale answer was not written back ...
      expect((await redis.dump()).some(({ key }) => key === entryKey(token))).toBe(false);
      // ... nor did it allow the request that was waiting for it ...
      expect(refused.status).toBe(401);
      expect(refused.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      // ... so neither instance serves it.
      for (const instance of [evicting, introspecting]) {
        expect((await get(instance, token)).status).toBe(401);
      }
      expect((await redis.dump()).some(({ key }) => key === entryKey(token))).toBe(false);
    },
  );

  it('a token that stays active is cached again after its eviction, once introspected after it', async () => {
    const token = randomBytes(32).toString('base64url');
    server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });
    await get(0, token).expect(200);
    await request(instances[1].app.getHttpServer()).post('/revoke').send({ token }).expect(204);
    expect((await redis.dump()).some(({ key }) => key === entryKey(token))).toBe(false);

    await get(1, token).expect(200);
    expect(introspections()).toBe(2);
    expect((await redis.dump()).some(({ key }) => key === entryKey(token))).toBe(true);
    await get(0, token).expect(200);
    expect(introspections()).toBe(2);
  });
});
