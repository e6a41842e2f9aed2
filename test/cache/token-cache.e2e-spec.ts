import { Body, Controller, Get, HttpCode, INestApplication, Post, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
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
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

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

  @Get('other-resource')
  @OAuth2Policy({ oauthResource: 'as2' })
  otherResource(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }

  @Get('short')
  @OAuth2Policy({ oauthCacheResource: 'short' })
  short() {
    return { short: true };
  }

  @Get('negative')
  @OAuth2Policy({ oauthCacheResource: 'negative' })
  negative() {
    return { negative: true };
  }

  @Get('keyed')
  @OAuth2Policy({ oauthCacheResource: 'keyed' })
  keyed() {
    return { keyed: true };
  }

  @Get('uncached')
  @OAuth2Policy({ oauthCacheResource: false })
  uncached() {
    return { uncached: true };
  }

  @Get('selected-none')
  // A selector that names no cache: not cached either.
  @OAuth2Policy({ oauthCacheResource: () => undefined })
  selectedNone() {
    return { uncached: true };
  }
}

/** Not guarded: revokes a token by evicting it from every cache. */
@Controller('revoke')
class RevokeController {
  constructor(private readonly caches: TokenCacheRegistry) {}

  @Post()
  @HttpCode(204)
  async revoke(@Body() body: { token: string }): Promise<void> {
    await this.caches.evict(body.token);
  }
}

describe.each(ADAPTERS)('token cache on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let app: INestApplication;

  const introspections = () => server.requestsTo('/introspect').length;
  const tokensIntrospected = () => server.requestsTo('/introspect').map((r) => r.form.get('token'));

  function get(path: string, token: string) {
    return request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  }

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url), genericResource('as2', url)],
          caches: [
            { name: 'local', timeToLiveSeconds: 300 },
            { name: 'short', timeToLiveSeconds: 1 },
            { name: 'negative', negativeTimeToLiveSeconds: 30 },
            { name: 'keyed', hmacSecret: 'an-hmac-secret-for-tests' },
          ],
          policy: { oauthResource: 'as', oauthCacheResource: 'local' },
        }),
      ],
      controllers: [DataController, RevokeController],
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
  });

  // Each test uses its own tokens: the cache lives as long as the application.
  let sequence = 0;
  function freshToken(label: string, payload: Record<string, unknown> = {}): string {
    sequence += 1;
    const token = `${label}-${adapter}-${sequence}`;
    server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read', ...payload });
    return token;
  }

  it('a second request with the same token does not reach the server', async () => {
    const token = freshToken('same');
    await get('/data', token).expect(200, { clientId: 'c1' });
    expect(introspections()).toBe(1);
    await get('/data', token).expect(200, { clientId: 'c1' });
    await get('/data', token).expect(200, { clientId: 'c1' });
    expect(introspections()).toBe(1);
  });

  it('a different token gets its own introspection', async () => {
    const first = freshToken('first', { client_id: 'one' });
    const second = freshToken('second', { client_id: 'two' });
    await get('/data', first).expect(200, { clientId: 'one' });
    await get('/data', second).expect(200, { clientId: 'two' });
    await get('/data', first).expect(200, { clientId: 'one' });
    await get('/data', second).expect(200, { clientId: 'two' });
    expect(tokensIntrospected()).toEqual([first, second]);
  });

  it('a different resource name gets its own introspection (and its own entry)', async () => {
    const token = freshToken('resource');
    await get('/data', token).expect(200);
    await get('/data/other-resource', token).expect(200);
    expect(tokensIntrospected()).toEqual([token, token]);
    await get('/data', token).expect(200);
    await get('/data/other-resource', token).expect(200);
    expect(introspections()).toBe(2);
  });

  it.each(['uncached', 'selected-none'])(
    'a route without a cache (%s) introspects every time, and does not fill the cache',
    async (route) => {
      const token = freshToken(route);
      await get(`/data/${route}`, token).expect(200);
      await get(`/data/${route}`, token).expect(200);
      expect(introspections()).toBe(2);
      await get('/data', token).expect(200);
      expect(introspections()).toBe(3);
    },
  );

  it('an entry does not outlive exp', async () => {
    // exp 1 to 2 s ahead; the server, as a real one would, says inactive once exp has passed.
    const exp = nowSeconds() + 2;
    const token = freshToken('expiring', { exp });
    server.script = (_request, presented) => {
      const payload = presented === undefined ? undefined : server.tokens.get(presented);
      return { status: 200, body: payload && Date.now() < exp * 1000 ? payload : { active: false } };
    };
    await get('/data', token).expect(200);
    await get('/data', token).expect(200);
    expect(introspections()).toBe(1);
    const wait = exp * 1000 - Date.now() + 150;
    expect(wait).toBeLessThan(2500);
    await sleep(Math.max(wait, 0));
    // Within the default clock tolerance (5 s), so a cached entry would still pass the exp check.
    const response = await get('/data', token);
    expect(response.status).toBe(401);
    expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    expect(introspections()).toBe(2);
  });

  it('timeToLiveSeconds: 1 → the server is asked again after ~1.2 s', async () => {
    const token = freshToken('short-ttl');
    await get('/data/short', token).expect(200);
    await get('/data/short', token).expect(200);
    expect(introspections()).toBe(1);
    await sleep(1200);
    await get('/data/short', token).expect(200);
    expect(introspections()).toBe(2);
    await get('/data/short', token).expect(200);
    expect(introspections()).toBe(2);
  });

  it('a hit does not extend an entry: timeToLiveSeconds: 1, read at 0.5 s, gone at 1.1 s', async () => {
    const token = freshToken('no-extension');
    await get('/data/short', token).expect(200);
    await sleep(500);
    await get('/data/short', token).expect(200);
    expect(introspections()).toBe(1);
    await sleep(600);
    await get('/data/short', token).expect(200);
    expect(introspections()).toBe(2);
  });

  it('inactive tokens are not cached', async () => {
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const response = await get('/data', 'inactive-token');
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      expect(introspections()).toBe(attempt);
    }
  });

  it('a token that turns active later is accepted (its inactive answer was not cached)', async () => {
    expect((await get('/data', 'late-token')).status).toBe(401);
    server.tokens.set('late-token', { active: true, client_id: 'late' });
    await get('/data', 'late-token').expect(200, { clientId: 'late' });
    expect(introspections()).toBe(2);
  });

  it('negativeTimeToLiveSeconds keeps an inactive answer: a spray of one bad token reaches the server once', async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const response = await get('/data/negative', 'sprayed-inactive-token');
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    }
    expect(introspections()).toBe(1);
  });

  it('negativeTimeToLiveSeconds does not keep server errors', async () => {
    server.script = () => ({ status: 503, body: 'down' });
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      expect((await get('/data/negative', 'token-during-outage')).body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
    }
    expect(introspections()).toBe(2);
  });

  it('a cache with hmacSecret caches the same way', async () => {
    const token = freshToken('keyed');
    await get('/data/keyed', token).expect(200);
    await get('/data/keyed', token).expect(200);
    expect(introspections()).toBe(1);
    await request(app.getHttpServer()).post('/revoke').send({ token }).expect(204);
    await get('/data/keyed', token).expect(200);
    expect(introspections()).toBe(2);
  });

  it('server errors are not cached', async () => {
    const token = freshToken('flaky');
    let calls = 0;
    server.script = (_request, presented) => {
      calls += 1;
      if (calls === 1) {
        return { status: 500, body: { error: 'boom' } };
      }
      if (calls === 2) {
        return { status: 200, body: 'not json' };
      }
      return {
        status: 200,
        body: presented === undefined ? { active: false } : (server.tokens.get(presented) ?? { active: false }),
      };
    };
    const down = await get('/data', token);
    expect(down.status).toBe(403);
    expect(down.body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
    const garbled = await get('/data', token);
    expect(garbled.status).toBe(403);
    expect(garbled.body.key).toBe('OAUTH2_INVALID_SERVER_RESPONSE');
    await get('/data', token).expect(200);
    await get('/data', token).expect(200);
    expect(introspections()).toBe(3);
  });

  it('the scope check runs on a cache hit', async () => {
    const token = freshToken('reader', { scope: 'read' });
    await get('/data', token).expect(200);
    expect(introspections()).toBe(1);
    const denied = await get('/data/admin', token);
    expect(denied.status).toBe(403);
    expect(denied.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
    await get('/data', token).expect(200);
    expect(introspections()).toBe(1);

    const admin = freshToken('admin', { scope: 'read admin' });
    await get('/data/admin', admin).expect(200);
    await get('/data/admin', admin).expect(200);
    expect(introspections()).toBe(2);
  });

  it('20 concurrent requests with one cold token → exactly 1 introspection', async () => {
    const token = freshToken('concurrent');
    let inFlight = 0;
    let maxInFlight = 0;
    server.script = async (_request, presented) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(100);
      inFlight -= 1;
      return { status: 200, body: (presented && server.tokens.get(presented)) || { active: false } };
    };
    const responses = await Promise.all(Array.from({ length: 20 }, () => get('/data', token)));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(introspections()).toBe(1);
    expect(maxInFlight).toBe(1);
  });

  it('20 concurrent requests with one cold inactive token → one introspection, all rejected, nothing cached', async () => {
    server.script = async () => ({ status: 200, body: { active: false }, delayMs: 100 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => get('/data', 'cold-inactive')));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(401));
    expect(introspections()).toBe(1);
    await get('/data', 'cold-inactive').expect(401);
    expect(introspections()).toBe(2);
  });

  it('TokenCacheRegistry.evict(token) makes the next request introspect again', async () => {
    const token = freshToken('revoked');
    const bystander = freshToken('bystander');
    await get('/data', token).expect(200);
    await get('/data/other-resource', token).expect(200);
    await get('/data', bystander).expect(200);
    expect(introspections()).toBe(3);

    server.tokens.delete(token); // the authorization server revoked it
    await request(app.getHttpServer()).post('/revoke').send({ token }).expect(204);

    for (const path of ['/data', '/data/other-resource']) {
      const response = await get(path, token);
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    }
    expect(introspections()).toBe(5);
    await get('/data', bystander).expect(200);
    expect(introspections()).toBe(5);
  });

  it('TokenCacheRegistry.evict(token, { resource }) drops the entry of that resource only', async () => {
    const token = freshToken('scoped-eviction');
    await get('/data', token).expect(200);
    await get('/data/other-resource', token).expect(200);
    expect(introspections()).toBe(2);
    await app.get(TokenCacheRegistry).evict(token, { resource: 'as2', cache: 'local' });
    await get('/data', token).expect(200);
    expect(introspections()).toBe(2);
    await get('/data/other-resource', token).expect(200);
    expect(introspections()).toBe(3);
  });

  it('TokenCacheRegistry.evict refuses names that are not registered, rather than evicting nothing', async () => {
    const caches = app.get(TokenCacheRegistry);
    await expect(caches.evict('any-token', { resource: 'as3' })).rejects.toThrow("No OAuth2 resource named 'as3'");
    await expect(caches.evict('any-token', { cache: 'lokal' })).rejects.toThrow("No OAuth2 cache named 'lokal'");
    await expect(caches.evict('')).rejects.toThrow('evict() needs the token');
  });
});

@Controller('data')
@UseGuards(OAuth2Guard)
class AppCacheController {
  @Get()
  read(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }
}

/** Issue 4's escape hatch: the application's own cache (here @nestjs/cache-manager's CacheModule) as the store. */
describe.each(ADAPTERS)("the application's own CacheModule as a 'store' cache, on %s", (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;
  let appCache: Cache;

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        CacheModule.register({ isGlobal: true }),
        OAuth2Module.forRootAsync({
          inject: [CACHE_MANAGER],
          useFactory: (cache: Cache) => ({
            resources: [genericResource('as', url)],
            caches: [{ name: 'app', type: 'store', store: cache, negativeTimeToLiveSeconds: 30 }],
            policy: { oauthResource: 'as', oauthCacheResource: 'app' },
          }),
        }),
      ],
      controllers: [AppCacheController, RevokeController],
    });
    appCache = app.get<Cache>(CACHE_MANAGER);
  });
  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  it('keeps entries there, under oauth2:<name>: and a hash, and serves hits from it', async () => {
    server.tokens.set('app-cache-token', { active: true, client_id: 'c9' });
    await request(app.getHttpServer())
      .get('/data')
      .set('Authorization', 'Bearer app-cache-token')
      .expect(200, { clientId: 'c9' });
    await request(app.getHttpServer())
      .get('/data')
      .set('Authorization', 'Bearer app-cache-token')
      .expect(200, { clientId: 'c9' });
    expect(server.requestsTo('/introspect')).toHaveLength(1);
    const key = `oauth2:app:${TokenCache.key('as', 'app-cache-token')}`;
    expect(await appCache.get(key)).toEqual({ active: true, payload: { active: true, client_id: 'c9' } });
    expect(await appCache.get('app-cache-token')).toBeUndefined();
  });

  it('eviction reaches it, and the application keeps using its cache after', async () => {
    await request(app.getHttpServer()).post('/revoke').send({ token: 'app-cache-token' }).expect(204);
    expect(await appCache.get(`oauth2:app:${TokenCache.key('as', 'app-cache-token')}`)).toBeUndefined();
    await appCache.set('own-key', 'own-value');
    expect(await appCache.get('own-key')).toBe('own-value');
  });
});
