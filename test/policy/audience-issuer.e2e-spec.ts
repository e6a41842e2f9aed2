import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Policy } from '../../lib';
import { specErrorBody } from '../support/e2e-kit';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

const ISSUER = 'https://as.example.com';

@Controller('bound')
@UseGuards(OAuth2Guard)
class BoundController {
  @Get('default')
  byDefault() {
    return { ok: true };
  }

  @Get('other')
  @OAuth2Policy({ audiences: ['https://api.example.com/b'] })
  other() {
    return { ok: true };
  }

  @Get('off')
  @OAuth2Policy({ audiences: false, issuers: false })
  off() {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('policy.audiences and policy.issuers on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url)],
          caches: [{ name: 'local', timeToLiveSeconds: 60 }],
          policy: {
            oauthResource: 'as',
            oauthCacheResource: 'local',
            audiences: ['https://api.example.com/a'],
            issuers: [ISSUER],
          },
        }),
      ],
      controllers: [BoundController],
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    const payload = (claims: Record<string, unknown>) => ({ active: true, client_id: 'c1', ...claims });
    server.tokens.set('a', payload({ aud: 'https://api.example.com/a', iss: ISSUER }));
    server.tokens.set(
      'a-in-array',
      payload({ aud: ['https://x.example.com', 'https://api.example.com/a'], iss: ISSUER }),
    );
    server.tokens.set('b', payload({ aud: 'https://api.example.com/b', iss: ISSUER }));
    server.tokens.set('no-aud', payload({ iss: ISSUER }));
    server.tokens.set('other-iss', payload({ aud: 'https://api.example.com/a', iss: 'https://evil.example.com' }));
  });

  const get = (path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  const invalid = specErrorBody('OAUTH2_INVALID_ACCESS_TOKEN');

  it('accepts a token whose aud (a string or an array) holds an audience of the policy, issued by an issuer of it', async () => {
    await get('/bound/default', 'a').expect(200, { ok: true });
    await get('/bound/default', 'a-in-array').expect(200, { ok: true });
  });

  it('refuses a token for another audience, without aud, or from another issuer: OAUTH2_INVALID_ACCESS_TOKEN', async () => {
    await get('/bound/default', 'b').expect(invalid.statusCode, invalid);
    await get('/bound/default', 'no-aud').expect(invalid.statusCode, invalid);
    await get('/bound/default', 'other-iss').expect(invalid.statusCode, invalid);
  });

  it('checks on cache hits too, per route: one introspection, each route judged by its own policy', async () => {
    // Tokens of this test only: the cache outlives each test.
    server.tokens.set('hit-a', server.tokens.get('a')!);
    server.tokens.set('hit-b', server.tokens.get('b')!);
    await get('/bound/default', 'hit-a').expect(200);
    await get('/bound/other', 'hit-a').expect(invalid.statusCode, invalid);
    await get('/bound/default', 'hit-a').expect(200);
    await get('/bound/other', 'hit-a').expect(invalid.statusCode, invalid);
    await get('/bound/other', 'hit-b').expect(200);
    await get('/bound/default', 'hit-b').expect(invalid.statusCode, invalid);
    await get('/bound/other', 'hit-b').expect(200);
    expect(server.requestsTo('/introspect')).toHaveLength(2);
  });

  it('@OAuth2Policy({ audiences: false, issuers: false }) turns both checks off for its route', async () => {
    await get('/bound/off', 'b').expect(200);
    await get('/bound/off', 'no-aud').expect(200);
    await get('/bound/off', 'other-iss').expect(200);
  });
});

describe('policy.audiences at start-up', () => {
  it('refuses an empty list, naming the field and saying to use false', async () => {
    await expect(
      startApp('express', {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', 'http://127.0.0.1:9')],
            policy: { oauthResource: 'as', audiences: [] },
          }),
        ],
      }),
    ).rejects.toThrow(/policy\.audiences.*or false to turn the check off/s);
  });
});
