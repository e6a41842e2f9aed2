import { createClient } from '@keyv/redis';
import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, RequiredScopes, TokenCacheRegistry } from '../../lib';
import { genericResource } from '../support/guard-e2e-helpers';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { describeWithRedis, RedisServer } from '../support/redis-server';

/**
 * Issue 12, point 7: whoever can write to the Redis must not be able to grant a scope by editing a
 * cached payload. With `hmacSecret`, each value carries a MAC over its key and itself: a value edited
 * in Redis, written without the MAC, or copied from another token's key is a miss (the token is
 * introspected again), logged once.
 */

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read() {
    return { ok: true };
  }

  @Get('admin')
  @RequiredScopes('admin')
  admin() {
    return { admin: true };
  }
}

const newToken = () => randomBytes(32).toString('base64url');

describeWithRedis('values in a shared Redis carry a MAC under hmacSecret', () => {
  describe.each(ADAPTERS)('%s', (adapter) => {
    const server = new ScriptedIntrospectionServer();
    let redis: RedisServer;
    let app: INestApplication;
    const logger = new RecordingLogger();
    let raw: ReturnType<typeof createClient>;

    const introspections = () => server.requestsTo('/introspect').length;
    const get = (path: string, token: string) =>
      request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
    const keyOf = (token: string) => `oauth2:shared:${app.get(TokenCacheRegistry).get('shared').keyOf('as', token)}`;
    const readToken = () => {
      const token = newToken();
      server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });
      return token;
    };
    /** The token's value as Redis holds it (Keyv's `{ value, expires }` around the sealed entry). */
    const rawValue = async (token: string) => JSON.parse((await raw.get(keyOf(token)))!);
    const macLines = () => logger.lines.filter((line) => line.includes('fails its MAC'));

    beforeAll(async () => {
      const [url, started] = await Promise.all([server.start(), RedisServer.start()]);
      redis = started;
      app = await startApp(
        adapter,
        {
          imports: [
            OAuth2Module.forRoot({
              resources: [genericResource('as', url)],
              caches: [
                {
                  name: 'shared',
                  type: 'redis',
                  url: redis.url,
                  timeToLiveSeconds: 300,
                  hmacSecret: 'a secret of thirty-two characters',
                },
              ],
              policy: { oauthResource: 'as', oauthCacheResource: 'shared' },
            }),
          ],
          controllers: [DataController],
        },
        logger,
      );
      raw = createClient({ url: redis.url });
      raw.on('error', () => undefined);
      await raw.connect();
    });
    afterAll(async () => {
      raw.destroy();
      await app.close();
      await server.stop();
      await redis.stop();
    });

    it('keeps entries sealed: the payload as JSON text, and a MAC', async () => {
      const token = readToken();
      await get('/data', token).expect(200);
      const { value } = await rawValue(token);
      expect(Object.keys(value).sort()).toEqual(['entry', 'mac']);
      expect(JSON.parse(value.entry)).toEqual({ active: true, payload: server.tokens.get(token) });
      await get('/data', token).expect(200);
      expect(introspections()).toBe(1);
    });

    it('a plain entry with a scope added (no MAC) is a miss: the token is introspected, the scope not granted', async () => {
      const token = readToken();
      await get('/data', token).expect(200);
      const stored = await rawValue(token);
      const forged = { active: true, payload: { active: true, client_id: 'c1', scope: 'read admin' } };
      await raw.set(keyOf(token), JSON.stringify({ ...stored, value: forged }), { PX: 60_000 });

      const before = introspections();
      const refused = await get('/data/admin', token);
      expect(refused.status).toBe(403);
      expect(refused.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
      expect(introspections()).toBe(before + 1);
    });

    it('a sealed entry whose payload was edited (MAC kept) is a miss', async () => {
      const token = readToken();
      await get('/data', token).expect(200);
      const stored = await rawValue(token);
      const entry = JSON.parse(stored.value.entry);
      entry.payload.scope = 'read admin';
      const edited = { ...stored, value: { entry: JSON.stringify(entry), mac: stored.value.mac } };
      await raw.set(keyOf(token), JSON.stringify(edited), { PX: 60_000 });

      const before = introspections();
      expect((await get('/data/admin', token)).status).toBe(403);
      expect(introspections()).toBe(before + 1);
    });

    it("another token's sealed entry copied under this token's key is a miss", async () => {
      const admin = newToken();
      server.tokens.set(admin, { active: true, client_id: 'c2', scope: 'read admin' });
      await get('/data/admin', admin).expect(200);
      const token = readToken();
      await get('/data', token).expect(200);
      await raw.set(keyOf(token), (await raw.get(keyOf(admin)))!, { PX: 60_000 });

      const before = introspections();
      expect((await get('/data/admin', token)).status).toBe(403);
      expect(introspections()).toBe(before + 1);
      // The untouched entry still serves its own token.
      await get('/data/admin', admin).expect(200);
      expect(introspections()).toBe(before + 1);
    });

    it('logs the refused entries once, naming no token and no key', async () => {
      const token = readToken();
      await get('/data', token).expect(200);
      for (let round = 0; round < 3; round += 1) {
        await raw.set(keyOf(token), JSON.stringify({ value: { entry: '{}', mac: 'x' }, expires: null }), {
          PX: 60_000,
        });
        await get('/data', token).expect(200);
      }
      expect(macLines()).toHaveLength(1);
      expect(macLines()[0]).toContain("cache 'shared'");
      for (const line of logger.lines) {
        expect(line).not.toContain(token.slice(0, 12));
        expect(line).not.toContain(keyOf(token).slice(-20));
      }
    });
  });
});
