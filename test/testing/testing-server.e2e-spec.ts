import { Controller, Get, type INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  OAUTH2_MODULE_OPTIONS,
  OAuth2Guard,
  OAuth2Module,
  type OAuth2ModuleOptions,
  OAuth2Attribute,
  RequiredScopes,
} from '../../lib';
import { OAuth2TestingServer } from '../../lib/testing';

/** The application's production configuration: the tests never reach this server. */
function appOAuth2Options(): OAuth2ModuleOptions {
  return {
    resources: [
      { name: 'corp-as', type: 'generic', introspectionEndpoint: 'https://as.invalid/introspect', clientId: 'orders' },
    ],
    caches: [{ name: 'local', timeToLiveSeconds: 300 }],
    policy: { oauthResource: 'corp-as', oauthCacheResource: 'local' },
  };
}

@Controller('orders')
@UseGuards(OAuth2Guard)
class OrdersController {
  @Get()
  @RequiredScopes('orders:read')
  list(@OAuth2Attribute('user') user?: string) {
    return { orders: [], user };
  }

  @Post()
  @RequiredScopes('orders:write')
  create() {
    return { created: true };
  }
}

@Module({ imports: [OAuth2Module.forRoot(appOAuth2Options())], controllers: [OrdersController] })
class AppModule {}

async function startApp(adapter: 'express' | 'fastify', options: OAuth2ModuleOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(OAUTH2_MODULE_OPTIONS)
    .useValue(options)
    .compile();
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger: false })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  if (adapter === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  return app;
}

describe.each(['express', 'fastify'] as const)('an application tested with OAuth2TestingServer on %s', (adapter) => {
  let as: OAuth2TestingServer;
  let app: INestApplication;

  beforeAll(async () => {
    as = await OAuth2TestingServer.start();
    app = await startApp(adapter, as.moduleOptions());
  });
  afterAll(async () => {
    await app?.close();
    await as?.close();
  });

  it('answers 401 without a token, without asking the server', async () => {
    const before = as.introspectionCount;
    const response = await request(app.getHttpServer()).get('/orders');
    expect(response.status).toBe(401);
    expect(response.body.key).toBe('OAUTH2_MISSING_HEADER');
    expect(as.introspectionCount).toBe(before);
  });

  it('lets a token with the scope through, with its claims', async () => {
    const token = as.issueToken({ scope: 'orders:read', sub: 'ann' });
    await request(app.getHttpServer())
      .get('/orders')
      .set('Authorization', `Bearer ${token}`)
      .expect(200, { orders: [], user: 'ann' });
    expect(as.introspections.at(-1)).toEqual({
      clientAuthentication: 'basic',
      clientId: 'test-resource-server',
      status: 200,
      active: true,
      tokenTypeHint: 'access_token',
    });
  });

  it('answers 403 for a token without the scope', async () => {
    const token = as.issueToken({ scope: ['orders:read'] });
    const response = await request(app.getHttpServer()).post('/orders').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(403);
    expect(response.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
  });

  it('answers 401 once the token is revoked', async () => {
    const token = as.issueToken({ scope: 'orders:read orders:write' });
    const http = request(app.getHttpServer());
    await http.post('/orders').set('Authorization', `Bearer ${token}`).expect(201);
    expect(as.revoke(token)).toBe(true);
    const response = await http.post('/orders').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(401);
    expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
  });

  it('answers 401 for an expired token and for one issued inactive', async () => {
    const http = request(app.getHttpServer());
    for (const token of [
      as.issueToken({ scope: 'orders:read', expiresInSeconds: -1 }),
      as.issueToken({ scope: 'orders:read', active: false }),
    ]) {
      const response = await http.get('/orders').set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    }
  });
});

describe("OAuth2TestingServer.moduleOptions with the application's own options", () => {
  it('keeps the policy and the cache, and points the named resource at the server', async () => {
    const as = await OAuth2TestingServer.start();
    const app = await startApp('express', as.moduleOptions(appOAuth2Options()));
    try {
      const token = as.issueToken({ scope: 'orders:read' });
      const http = request(app.getHttpServer());
      await http.get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
      await http.get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
      expect(as.introspectionCount).toBe(1);
    } finally {
      await app.close();
      await as.close();
    }
  });
});

describe('the OAuth2TestingServer introspection endpoint', () => {
  let as: OAuth2TestingServer;
  beforeAll(async () => {
    as = await OAuth2TestingServer.start({ clientSecret: 's3cret' });
  });
  afterAll(() => as.close());

  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  it('answers the RFC 7662 claims of an active token', async () => {
    const token = as.issueToken({
      scope: 'a b',
      clientId: 'shop',
      sub: 'ann',
      aud: ['api'],
      iss: 'https://as',
      expiresInSeconds: 60,
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const response = await request(as.url)
      .post('/introspect')
      .set('Authorization', basic('test-resource-server', 's3cret'))
      .type('form')
      .send({ token, token_type_hint: 'access_token' })
      .expect(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const { exp, iat, ...claims } = response.body;
    expect(claims).toEqual({
      active: true,
      scope: 'a b',
      client_id: 'shop',
      sub: 'ann',
      aud: ['api'],
      iss: 'https://as',
      token_type: 'Bearer',
    });
    expect(exp - iat).toBe(60);
  });

  it('accepts client_secret_post, and answers inactive for an unknown token', async () => {
    await request(as.url)
      .post('/introspect')
      .type('form')
      .send({ token: 'unknown', client_id: 'test-resource-server', client_secret: 's3cret' })
      .expect(200, { active: false });
  });

  it('refuses other client credentials, or none, with 401 invalid_client', async () => {
    const token = as.issueToken();
    for (const authorization of [
      basic('test-resource-server', 'wrong'),
      basic('other', 's3cret'),
      'Bearer x',
      undefined,
    ]) {
      const call = request(as.url).post('/introspect').type('form');
      const response = await (authorization ? call.set('Authorization', authorization) : call).send({ token });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: 'invalid_client' });
    }
  });

  it('answers 400 without a token, 405 for GET and 404 elsewhere', async () => {
    await request(as.url)
      .post('/introspect')
      .set('Authorization', basic('test-resource-server', 's3cret'))
      .type('form')
      .send({})
      .expect(400);
    await request(as.url).get('/introspect').expect(405);
    await request(as.url).post('/token').expect(404);
  });
});
