import { Controller, Get, type INestApplication, Injectable, UseGuards } from '@nestjs/common';
import request from 'supertest';
import {
  type GuardedRequest,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Payload,
  OAuth2Policy,
  OAuth2ResourceRegistry,
  type ResolvedOAuth2Policy,
  TokenCacheRegistry,
  TokenIntrospectionService,
} from '../../lib';
import { genericResource, resettable, sleep } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * The hit path of a memory cache finds a token it looked up before by the token itself, without hashing
 * it (the store remembers the token beside the entry). These check that the shortcut answers exactly
 * what the hashed look-up would: per token, per resource, and never past its entry's end.
 */
@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read(@OAuth2Payload('$.sub') sub: string) {
    return { sub };
  }

  @Get('plain')
  @OAuth2Policy({ oauthCacheResource: 'plain' })
  plain(@OAuth2Payload('$.sub') sub: string) {
    return { sub };
  }

  @Get('other')
  @OAuth2Policy({ oauthResource: 'other' })
  other(@OAuth2Payload('$.sub') sub: string) {
    return { sub };
  }

  @Get('dpop')
  @OAuth2Policy({ dpop: 'required' })
  dpop() {
    return { ok: true };
  }

  @Get('query')
  @OAuth2Policy({ allowAccessTokenQueryParam: true })
  query(@OAuth2Payload('$.sub') sub: string) {
    return { sub };
  }
}

/** A subclass that reads its token from `X-Api-Token` first, as docs/customizing-the-guard.md shows. */
@Injectable()
class ApiTokenGuard extends OAuth2Guard {
  protected override extractToken(request: GuardedRequest, policy: ResolvedOAuth2Policy): string {
    const header = request.headers['x-api-token'];
    return typeof header === 'string' ? header : super.extractToken(request, policy);
  }
}

@Controller('api')
@UseGuards(ApiTokenGuard)
class ApiTokenController {
  @Get()
  read(@OAuth2Payload('$.sub') sub: string) {
    return { sub };
  }
}

describe.each(ADAPTERS)('memory cache, a token looked up before, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const otherServer = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let app: INestApplication;
  const introspections = () => server.requestsTo('/introspect').length;
  const get = (path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  const start = (errorProfile: 'documented' | 'rfc') =>
    startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', server.url), genericResource('other', otherServer.url)],
          caches: [
            { name: 'memory', timeToLiveSeconds: 1 },
            { name: 'plain', timeToLiveSeconds: 60, rememberTokens: false },
          ],
          policy: { oauthResource: 'as', oauthCacheResource: 'memory', extractPayload: true },
          errorProfile,
        }),
      ],
      controllers: [DataController, ApiTokenController],
      providers: [ApiTokenGuard],
    });

  beforeAll(async () => {
    await Promise.all([server.start(), otherServer.start()]);
    app = await start('documented');
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([server.stop(), otherServer.stop()]);
  });
  beforeEach(() => {
    resetServer();
    otherServer.reset();
  });

  it('answers each token with its own entry, a token that differs by one character or its case included', async () => {
    const token = `Token-${adapter}-0123456789`;
    const lookalikes = [`${token}x`, token.slice(0, -1), token.toLowerCase()];
    server.tokens.set(token, { active: true, sub: 'owner' });
    lookalikes.forEach((lookalike, index) => server.tokens.set(lookalike, { active: true, sub: `other-${index}` }));
    for (let round = 0; round < 3; round += 1) {
      await get('/data', token).expect(200, { sub: 'owner' });
      for (const [index, lookalike] of lookalikes.entries()) {
        await get('/data', lookalike).expect(200, { sub: `other-${index}` });
      }
    }
    expect(introspections()).toBe(4);
  });

  it('keeps the entries of two resources apart in one cache', async () => {
    const token = `shared-${adapter}`;
    server.tokens.set(token, { active: true, sub: 'at-as' });
    otherServer.tokens.set(token, { active: false });
    for (let round = 0; round < 3; round += 1) {
      await get('/data', token).expect(200, { sub: 'at-as' });
      await get('/data/other', token).expect(401);
    }
  });

  it('forgets the token with its entry: after an eviction the token is introspected again', async () => {
    const token = `revoked-${adapter}`;
    server.tokens.set(token, { active: true, sub: 'owner' });
    await get('/data', token).expect(200);
    await get('/data', token).expect(200);
    await get('/data', token).expect(200);
    expect(introspections()).toBe(1);
    server.tokens.set(token, { active: false });
    await app.get(TokenCacheRegistry).evict(token);
    await get('/data', token).expect(401);
    expect(introspections()).toBe(2);
  });

  it('forgets the token with its entry: after the TTL the token is introspected again', async () => {
    const token = `expiring-${adapter}`;
    server.tokens.set(token, { active: true, sub: 'first' });
    await get('/data', token).expect(200, { sub: 'first' });
    await get('/data', token).expect(200, { sub: 'first' });
    server.tokens.set(token, { active: true, sub: 'second' });
    await sleep(1100);
    await get('/data', token).expect(200, { sub: 'second' });
    expect(introspections()).toBe(2);
  });

  it('still refuses a malformed token as malformed, even one the cache was asked about before', async () => {
    // The guard skips its syntax check for a token its cache remembers, which only ever keeps
    // well-formed ones: a malformed token looked up through the public service is not remembered.
    const token = `comma,${adapter}`;
    server.tokens.set(token, { active: true, sub: 'owner' });
    const introspection = app.get(TokenIntrospectionService);
    const resource = app.get(OAuth2ResourceRegistry).get('as');
    const memory = app.get(TokenCacheRegistry).get('memory');
    await introspection.activePayload(resource, memory, token);
    await introspection.activePayload(resource, memory, token);
    expect(memory.peekToken('as', token)).toBeUndefined();
    expect(introspection.rememberedPayload(resource, memory, token)).toBeUndefined();
    // Active and cached all the same: only the syntax check refuses it.
    expect(introspections()).toBe(1);
    await get('/data', token).expect(401);
    await get('/data', token).expect(401);
    // A well-formed token, once remembered, is let through as before.
    const good = `good-${adapter}`;
    server.tokens.set(good, { active: true, sub: 'owner' });
    await get('/data', good).expect(200);
    await get('/data', good).expect(200);
    expect(introspection.rememberedPayload(resource, memory, good)).toMatchObject({ active: true, sub: 'owner' });
    await get('/data', good).expect(200, { sub: 'owner' });
  });

  describe('by the Authorization header as written', () => {
    const send = (path: string, authorization: string) =>
      request(app.getHttpServer()).get(path).set('Authorization', authorization);

    it('finds the third request of a token by its header, and each way of writing the token alike', async () => {
      const token = `written-${adapter}`;
      server.tokens.set(token, { active: true, sub: 'owner' });
      const memory = app.get(TokenCacheRegistry).get('memory');
      // Introspected; found by its hash (the token remembered); found by the token (the header remembered).
      for (let round = 0; round < 3; round += 1) {
        await send('/data', `Bearer ${token}`).expect(200, { sub: 'owner' });
      }
      expect(memory.peekToken('as', `Bearer ${token}`)).toMatchObject({ active: true });
      expect(memory.peekToken('as', token)).toBeUndefined();
      for (const writing of [`bearer ${token}`, `BEARER   ${token}`, `Bearer ${token}`]) {
        for (let round = 0; round < 3; round += 1) {
          await send('/data', writing).expect(200, { sub: 'owner' });
        }
      }
      expect(introspections()).toBe(1);
      // Texts that hold the token without being a Bearer value of it are answered as such.
      await send('/data', `Bearer ${token}x`).expect(401);
      await send('/data', `Basic ${token}`).expect(401);
      await send('/data', `Bearer${token}`).expect(401);
      // Gone with the entry, as a token remembered by itself is.
      server.tokens.set(token, { active: false });
      await app.get(TokenCacheRegistry).evict(token);
      await send('/data', `Bearer ${token}`).expect(401);
      expect(memory.peekToken('as', `Bearer ${token}`)).toBeUndefined();
    });

    it('still refuses a Bearer token where DPoP is required, although the cache knows its header', async () => {
      const token = `bearer-only-${adapter}`;
      server.tokens.set(token, { active: true, sub: 'owner' });
      for (let round = 0; round < 3; round += 1) {
        await get('/data', token).expect(200);
      }
      for (let round = 0; round < 2; round += 1) {
        const refused = await get('/data/dpop', token).expect(401);
        expect(refused.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      }
    });

    it("asks a subclass's own extractToken() on every request, although the cache knows the header", async () => {
      const bearer = `bearer-${adapter}`;
      const apiToken = `api-${adapter}`;
      server.tokens.set(bearer, { active: true, sub: 'bearer-owner' });
      server.tokens.set(apiToken, { active: true, sub: 'api-owner' });
      for (let round = 0; round < 3; round += 1) {
        await get('/data', bearer).expect(200, { sub: 'bearer-owner' });
        await get('/api', bearer).expect(200, { sub: 'bearer-owner' });
      }
      for (let round = 0; round < 2; round += 1) {
        await get('/api', bearer).set('X-Api-Token', apiToken).expect(200, { sub: 'api-owner' });
      }
    });

    it('in the rfc profile, still refuses a request it finds by its header that has a query token too', async () => {
      const rfc = await start('rfc');
      try {
        const token = `rfc-${adapter}`;
        server.tokens.set(token, { active: true, sub: 'owner' });
        const send = (path: string) => request(rfc.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
        for (let round = 0; round < 3; round += 1) {
          await send('/data/query').expect(200, { sub: 'owner' });
        }
        for (let round = 0; round < 2; round += 1) {
          const refused = await send(`/data/query?access_token=${token}`).expect(400);
          expect(refused.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
        }
        await send('/data/query').expect(200, { sub: 'owner' });
        expect(introspections()).toBe(1);
      } finally {
        await rfc.close();
      }
    });
  });

  it('keeps the token beside its entry from the first hit on, and with rememberTokens: false never', async () => {
    const token = `kept-${adapter}`;
    server.tokens.set(token, { active: true, sub: 'owner' });
    const caches = app.get(TokenCacheRegistry);
    await get('/data', token).expect(200);
    expect(caches.get('memory').peekToken('as', token)).toBeUndefined();
    await get('/data', token).expect(200);
    expect(caches.get('memory').peekToken('as', token)).toMatchObject({ active: true });
    for (let round = 0; round < 3; round += 1) {
      await get('/data/plain', token).expect(200, { sub: 'owner' });
    }
    expect(caches.get('plain').peekToken('as', token)).toBeUndefined();
    // Found by its key on every hit all the same: one introspection per cache.
    expect(introspections()).toBe(2);
  });
});
