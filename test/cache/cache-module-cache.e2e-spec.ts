import { Body, Controller, Get, HttpCode, INestApplication, Post, UseGuards } from '@nestjs/common';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  type CacheModuleCacheResourceOptions,
  OAuth2Attribute,
  OAuth2ConfigurationError,
  OAuth2Guard,
  OAuth2Module,
  type OAuth2ModuleOptions,
  TokenCache,
  TokenCacheRegistry,
} from '../../lib';
import { genericResource, resettable, startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 10: a `cache-module` cache keeps its entries in the application's own Nest cache, the REAL
 * `CacheModule` of `@nestjs/cache-manager` (12.x on the Nest 12 leg, 3.x on the Nest 11 leg), found
 * at start-up: `forRoot()` names it without `inject`.
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

/** A token that looks like a real one, so that a search for its parts means something. */
const newToken = () => randomBytes(32).toString('base64url');

/** Every 12-character window of a token: none may appear in the cache. */
const windowsOf = (token: string) =>
  Array.from({ length: token.length - 11 }, (_, start) => token.slice(start, start + 12));

/** One resource, and one `cache-module` cache named 'app' that the policy uses. */
function oauth2Options(url: string, cache: Partial<CacheModuleCacheResourceOptions> = {}): OAuth2ModuleOptions {
  return {
    resources: [genericResource('as', url)],
    caches: [{ name: 'app', type: 'cache-module', ...cache }],
    policy: { oauthResource: 'as', oauthCacheResource: 'app' },
  };
}

/**
 * Every key and value the default in-memory store of a cache-manager `Cache` holds (a Keyv over a
 * `Map`), as text.
 */
function heldByMemoryCache(cache: Cache): Array<{ key: string; value: string }> {
  return cache.stores.flatMap((keyv) => {
    const map = keyv.store as Map<string, unknown>;
    expect(map).toBeInstanceOf(Map);
    return [...map.entries()].map(([key, value]) => ({
      key,
      value: typeof value === 'string' ? value : JSON.stringify(value),
    }));
  });
}

describe.each(ADAPTERS)("a 'cache-module' cache in the application's CacheModule, on %s", (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let app: INestApplication;
  let appCache: Cache;

  const introspections = () => server.requestsTo('/introspect').length;
  const get = (token: string) => request(app.getHttpServer()).get('/data').set('Authorization', `Bearer ${token}`);
  function activeToken(): string {
    const token = newToken();
    server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });
    return token;
  }

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [CacheModule.register({ isGlobal: true }), OAuth2Module.forRoot(oauth2Options(url))],
      controllers: [DataController, RevokeController],
    });
    appCache = app.get<Cache>(CACHE_MANAGER);
  });
  afterAll(async () => {
    await app?.close();
    await server.stop();
  });
  beforeEach(() => resetServer());

  it('serves the second request from the application cache: one introspection for two requests', async () => {
    const token = activeToken();
    await get(token).expect(200, { clientId: 'c1' });
    await get(token).expect(200, { clientId: 'c1' });
    expect(introspections()).toBe(1);
  });

  it('keeps the entry there under oauth2:<name>: and a hash of the token, never the token', async () => {
    const token = activeToken();
    await get(token).expect(200);
    const key = `oauth2:app:${TokenCache.key('as', token)}`;
    expect(await appCache.get(key)).toEqual({
      active: true,
      payload: { active: true, client_id: 'c1', scope: 'read' },
    });
    expect(await appCache.get(token)).toBeUndefined();
    const held = heldByMemoryCache(appCache);
    expect(held.some((row) => row.key.endsWith(key))).toBe(true);
    for (const row of held) {
      for (const part of windowsOf(token)) {
        expect(row.key).not.toContain(part);
        expect(row.value).not.toContain(part);
      }
    }
  });

  it('evict() drops the entry from the application cache: the next request is introspected again', async () => {
    const token = activeToken();
    await get(token).expect(200);
    const key = `oauth2:app:${TokenCache.key('as', token)}`;
    expect(await appCache.get(key)).toBeDefined();

    server.tokens.delete(token); // the authorization server revoked it
    await request(app.getHttpServer()).post('/revoke').send({ token }).expect(204);
    expect(await appCache.get(key)).toBeUndefined();
    const refused = await get(token);
    expect(refused.status).toBe(401);
    expect(refused.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    expect(introspections()).toBe(2);
  });

  it("leaves the application's own entries alone", async () => {
    await appCache.set('own-key', 'own-value');
    const token = activeToken();
    await get(token).expect(200);
    await request(app.getHttpServer()).post('/revoke').send({ token }).expect(204);
    expect(await appCache.get('own-key')).toBe('own-value');
  });
});

describe.each(ADAPTERS)("where a 'cache-module' cache finds its cache, on %s", (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let url: string;
  const apps: INestApplication[] = [];

  const introspections = () => server.requestsTo('/introspect').length;
  /** Two requests with one token: the number of introspections they cost (1 when the second is a hit). */
  async function introspectionsForTwoRequests(app: INestApplication): Promise<number> {
    const token = newToken();
    server.tokens.set(token, { active: true, client_id: 'c1' });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await request(app.getHttpServer()).get('/data').set('Authorization', `Bearer ${token}`).expect(200);
    }
    return introspections();
  }

  beforeAll(async () => {
    url = await server.start();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    resetServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('a CacheModule imported without isGlobal, beside OAuth2Module', async () => {
    const app = await startApp(adapter, {
      imports: [CacheModule.register(), OAuth2Module.forRoot(oauth2Options(url))],
      controllers: [DataController],
    });
    apps.push(app);
    expect(await introspectionsForTwoRequests(app)).toBe(1);
  });

  it("forRootAsync()'s options, with no inject", async () => {
    const app = await startApp(adapter, {
      imports: [
        CacheModule.register({ isGlobal: true }),
        OAuth2Module.forRootAsync({ useFactory: () => oauth2Options(url) }),
      ],
      controllers: [DataController],
    });
    apps.push(app);
    expect(await introspectionsForTwoRequests(app)).toBe(1);
  });

  it('a provider of its own under injectionToken (a Keyv), wrapped as a store cache wraps it', async () => {
    const APP_KEYV = Symbol('APP_KEYV');
    const keyv = new Keyv();
    const app = await startApp(adapter, {
      imports: [OAuth2Module.forRoot(oauth2Options(url, { injectionToken: APP_KEYV, keyPrefix: 'tokens:' }))],
      providers: [{ provide: APP_KEYV, useValue: keyv }],
      controllers: [DataController],
    });
    apps.push(app);
    expect(await introspectionsForTwoRequests(app)).toBe(1);
    const token = server.requestsTo('/introspect')[0].form.get('token')!;
    expect(await keyv.get(`tokens:${TokenCache.key('as', token)}`)).toMatchObject({ active: true });
  });
});

describe.each(ADAPTERS)("a 'cache-module' cache without a cache to use fails the start, on %s", (adapter) => {
  const url = 'http://127.0.0.1:9';

  async function configurationError(metadata: Parameters<typeof startupError>[1]): Promise<OAuth2ConfigurationError> {
    const error = await startupError(adapter, metadata);
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    return error as OAuth2ConfigurationError;
  }

  it('no CacheModule: names the cache and says what to import', async () => {
    const error = await configurationError({ imports: [OAuth2Module.forRoot(oauth2Options(url))] });
    expect(error.field).toBe('caches[0]');
    expect(error.message).toBe(
      "OAuth2Module configuration: caches[0] (type 'cache-module') finds no provider 'CACHE_MANAGER' in the " +
        'application: import CacheModule.register({ isGlobal: true }) from @nestjs/cache-manager, or set ' +
        'injectionToken to the token of the cache provider you have.',
    );
  });

  it('no provider under injectionToken: names injectionToken and the token', async () => {
    const error = await configurationError({
      imports: [
        CacheModule.register({ isGlobal: true }),
        OAuth2Module.forRoot(oauth2Options(url, { injectionToken: Symbol('APP_CACHE') })),
      ],
    });
    expect(error.field).toBe('caches[0].injectionToken');
    expect(error.message).toContain(
      'caches[0].injectionToken is Symbol(APP_CACHE), which no provider of the application is registered under: ' +
        'register your cache under it, or import CacheModule.register({ isGlobal: true }) from @nestjs/cache-manager',
    );
  });

  it('a provider that is not a cache: says what it must be', async () => {
    const error = await configurationError({
      imports: [OAuth2Module.forRoot(oauth2Options(url))],
      providers: [{ provide: 'CACHE_MANAGER', useValue: 'redis://localhost:6379' }],
    });
    expect(error.field).toBe('caches[0]');
    expect(error.message).toContain(
      "caches[0] (type 'cache-module') uses the provider 'CACHE_MANAGER', which is not a cache (got string): it must " +
        'be a cache-manager Cache (CacheModule.register() from @nestjs/cache-manager provides one), a Keyv instance, ' +
        'or a Keyv store adapter.',
    );
  });

  it('the second of two caches is named by its index', async () => {
    const options = oauth2Options(url);
    const error = await configurationError({
      imports: [
        OAuth2Module.forRoot({
          ...options,
          caches: [{ name: 'local' }, { name: 'app', type: 'cache-module', injectionToken: 'MY_CACHE' }],
        }),
      ],
    });
    expect(error.field).toBe('caches[1].injectionToken');
    expect(error.message).toContain("caches[1].injectionToken is 'MY_CACHE', which no provider");
  });
});

describe.each(ADAPTERS)("the application's CacheModule after shutdown, on %s", (adapter) => {
  it('is neither closed nor disconnected by OAuth2Module, and keeps working', async () => {
    const server = new ScriptedIntrospectionServer();
    const url = await server.start();
    try {
      const app = await startApp(adapter, {
        imports: [CacheModule.register({ isGlobal: true }), OAuth2Module.forRoot(oauth2Options(url))],
        controllers: [DataController],
      });
      const appCache = app.get<Cache>(CACHE_MANAGER);
      let disconnections = 0;
      for (const keyv of appCache.stores) {
        keyv.on('disconnect', () => (disconnections += 1));
      }
      const token = newToken();
      server.tokens.set(token, { active: true, client_id: 'c1' });
      await request(app.getHttpServer()).get('/data').set('Authorization', `Bearer ${token}`).expect(200);
      const key = `oauth2:app:${TokenCache.key('as', token)}`;
      expect(await appCache.get(key)).toBeDefined();

      await app.close();

      // CacheModule itself disconnects only the stores it was given (none here): a disconnection
      // would be this module's.
      expect(disconnections).toBe(0);
      expect(await appCache.get(key)).toBeDefined();
      await appCache.set('after-shutdown', 'still works');
      expect(await appCache.get('after-shutdown')).toBe('still works');
    } finally {
      await server.stop();
    }
  });
});
