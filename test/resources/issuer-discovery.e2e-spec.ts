import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2ResourceRegistry } from '../../lib';
import { refusedUrl, specErrorBody } from '../support/e2e-kit';
import { AppTracker, resettable, sleep } from '../support/guard-e2e-helpers';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { type ReceivedRequest, ScriptedIntrospectionServer } from '../support/introspection-server';

@Controller('orders')
@UseGuards(OAuth2Guard)
class OrdersController {
  @Get()
  list() {
    return { orders: [] };
  }
}

const unavailable = specErrorBody('OAUTH2_SERVER_UNAVAILABLE');
/** Bound of the waits for a background retry (the first comes after 1 s). */
const RETRY_WAIT_MS = 5000;

describe.each(ADAPTERS)('a generic resource with issuer (discovery) on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  const apps = new AppTracker();
  let url: string;
  let issuer: string;

  beforeAll(async () => {
    url = await server.start();
    issuer = `${url}/tenant1`;
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    server.tokens.set('good', { active: true, client_id: 'c', scope: 'read' });
  });
  afterEach(async () => {
    await apps.closeAll();
  });

  /** Answers the metadata paths with `documents`, and introspection from `tokens`. */
  function serveMetadata(documents: Record<string, { status?: number; body?: unknown } | undefined>): void {
    const introspect = server.script;
    server.script = (received: ReceivedRequest, token) =>
      received.path in documents ? (documents[received.path] ?? { status: 404 }) : introspect(received, token);
  }

  const start = (resource: Record<string, unknown> = {}, logger: RecordingLogger | false = false) =>
    startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [{ name: 'as', type: 'generic', issuer, clientId: 'api', clientSecret: 'secret', ...resource }],
            policy: { oauthResource: 'as' },
          }),
        ],
        controllers: [OrdersController],
      },
      logger,
    ).then((app) => apps.add(app));
  const get = (app: INestApplication, token = 'good') =>
    request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);

  it('reads RFC 8414 metadata at the path-inserted URL, and uses client_secret_post when that is all it lists', async () => {
    serveMetadata({
      '/.well-known/oauth-authorization-server/tenant1': {
        body: {
          issuer,
          introspection_endpoint: `${url}/introspect`,
          introspection_endpoint_auth_methods_supported: ['client_secret_post'],
        },
      },
    });
    const app = await start();
    await get(app).expect(200, { orders: [] });
    const [introspection] = server.requestsTo('/introspect');
    expect(introspection.form.get('client_id')).toBe('api');
    expect(introspection.form.get('client_secret')).toBe('secret');
    expect(introspection.headers.authorization).toBeUndefined();
  });

  it('falls back to OpenID discovery, and keeps a configured client authentication', async () => {
    serveMetadata({
      '/.well-known/oauth-authorization-server/tenant1': undefined,
      '/tenant1/.well-known/openid-configuration': {
        body: {
          issuer,
          introspection_endpoint: `${url}/introspect`,
          introspection_endpoint_auth_methods_supported: ['client_secret_post'],
        },
      },
    });
    const app = await start({ useClientAuthorizationHeader: true });
    await get(app).expect(200);
    const [introspection] = server.requestsTo('/introspect');
    expect(introspection.headers.authorization).toMatch(/^Basic /);
    expect(introspection.form.get('client_secret')).toBeNull();
  });

  it('refuses a document of another issuer: the application starts, requests get OAUTH2_SERVER_UNAVAILABLE', async () => {
    const wrong = { body: { issuer: 'https://evil.example.com', introspection_endpoint: `${url}/introspect` } };
    serveMetadata({
      '/.well-known/oauth-authorization-server/tenant1': wrong,
      '/tenant1/.well-known/openid-configuration': wrong,
    });
    const logger = new RecordingLogger();
    const app = await start({}, logger);
    await get(app).expect(unavailable.statusCode, unavailable);
    expect(server.requestsTo('/introspect')).toHaveLength(0);
    expect(logger.lines.join('\n')).toContain('names another issuer');
    expect(logger.lines.join('\n')).not.toContain('evil.example.com');
  });

  it('a server down at start-up: the application starts, requests get OAUTH2_SERVER_UNAVAILABLE, then work once discovery succeeds on a retry', async () => {
    let up = false;
    const document = { body: { issuer, introspection_endpoint: `${url}/introspect` } };
    const introspect = server.script;
    server.script = (received, token) => {
      if (received.path.includes('/.well-known/')) {
        return up && received.path === '/.well-known/oauth-authorization-server/tenant1' ? document : { status: 503 };
      }
      return introspect(received, token);
    };
    const app = await start();
    const registry = app.get(OAuth2ResourceRegistry);
    await get(app).expect(unavailable.statusCode, unavailable);
    up = true;
    // The first retry comes 1 s after the start: ask until it has succeeded, within a bound.
    const deadline = Date.now() + RETRY_WAIT_MS;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      await sleep(100);
      status = (await get(app)).status;
    }
    expect(status).toBe(200);
    expect(registry.names()).toEqual(['as']);
  });

  it('a server that refuses connections does not stop the start', async () => {
    issuer = await refusedUrl();
    try {
      const app = await start();
      await get(app).expect(unavailable.statusCode, unavailable);
    } finally {
      issuer = `${url}/tenant1`;
    }
  });
});

describe.each(ADAPTERS)('issuer discovery at node-oidc-provider on %s', (adapter) => {
  const issuer = process.env.OIDC_ISSUER as string;
  let app: INestApplication;

  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            {
              name: 'oidc',
              type: 'generic',
              issuer,
              clientId: process.env.OIDC_INTROSPECTION_CLIENT_ID,
              clientSecret: process.env.OIDC_INTROSPECTION_CLIENT_SECRET,
            },
          ],
          policy: { oauthResource: 'oidc', issuers: [issuer] },
        }),
      ],
      controllers: [OrdersController],
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it("finds the introspection endpoint through the provider's discovery and accepts its tokens", async () => {
    const clientId = process.env.OIDC_TOKEN_CLIENT_ID as string;
    const clientSecret = process.env.OIDC_TOKEN_CLIENT_SECRET as string;
    const answer = await fetch(process.env.OIDC_TOKEN_URL as string, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }).toString(),
      signal: AbortSignal.timeout(5000),
    });
    const { access_token: token } = (await answer.json()) as { access_token: string };
    await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
    await request(app.getHttpServer()).get('/orders').set('Authorization', 'Bearer not-a-token').expect(401);
  });
});

describe('issuer at start-up', () => {
  it.each([
    [
      { issuer: 'http://127.0.0.1:9', introspectionEndpoint: 'http://127.0.0.1:9/i' },
      /resources\[0\]\.issuer.*give one of them/s,
    ],
    [{}, /resources\[0\]\.introspectionEndpoint is required.*issuer/s],
    [{ issuer: 'as.example.com' }, /resources\[0\]\.issuer must be an absolute http/],
    [{ issuer: 'https://as.example.com?tenant=1' }, /resources\[0\]\.issuer must have no query or fragment/],
  ])('refuses %j, naming the field', async (resource, message) => {
    await expect(
      startApp('express', {
        imports: [
          OAuth2Module.forRoot({
            resources: [{ name: 'as', type: 'generic', ...resource }],
            policy: { oauthResource: 'as' },
          }),
        ],
      }),
    ).rejects.toThrow(message);
  });
});
