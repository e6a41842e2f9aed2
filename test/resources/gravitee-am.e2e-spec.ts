import { Controller, ExecutionContext, Get, Headers, INestApplication, Param, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Attribute, OAuth2Guard, OAuth2Module, OAuth2Policy, OAuth2ResourceRegistry } from '../../lib';
import { decodeClientBasic, specErrorBody } from '../support/e2e-kit';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ReceivedRequest, ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * The Gravitee AM resource on the wire: endpoint per version, form token, Basic client
 * authentication, the `active` rule per version, userinfo, and the registry.
 */

const CLIENT_ID = 'am client';
const SECRET = 'am:se cr%t+';
const DOMAIN = 'my-domain';

const resourceFromPath = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ params?: Record<string, string> }>().params?.resource;

@Controller('am')
@UseGuards(OAuth2Guard)
class AmController {
  @Get(':resource')
  @OAuth2Policy({ oauthResource: resourceFromPath })
  attributes(@OAuth2Attribute('user') user: string | undefined, @OAuth2Attribute('user.roles') roles: string[]) {
    return { user: user ?? null, roles };
  }
}

@Controller('registry')
class RegistryController {
  constructor(private readonly registry: OAuth2ResourceRegistry) {}

  @Get(':name/userinfo')
  userInfo(@Param('name') name: string, @Headers('x-token') token: string) {
    return this.registry.get(name).userInfo(token);
  }

  @Get(':name/introspect')
  introspect(@Param('name') name: string, @Headers('x-token') token: string) {
    return this.registry.get(name).introspect(token);
  }
}

const CHECK_TOKEN = `/am/${DOMAIN}/oauth/check_token`;
const INTROSPECT = `/am/${DOMAIN}/oauth/introspect`;
const USERINFO_V1 = `/am/${DOMAIN}/userinfo`;
const USERINFO_OIDC = `/am/${DOMAIN}/oidc/userinfo`;

describe.each(ADAPTERS)('Gravitee AM resource on the wire, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const userInfos = new Map<string, Record<string, unknown>>();
  let app: INestApplication;

  const get = (path: string, authorization: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', authorization);
  const onlyRequest = (): ReceivedRequest => {
    expect(server.requests).toHaveLength(1);
    return server.requests[0];
  };

  beforeAll(async () => {
    const url = await server.start();
    server.script = (received, token) => {
      if (received.path === USERINFO_V1 || received.path === USERINFO_OIDC) {
        const bearer = /^Bearer (.+)$/.exec(String(received.headers.authorization ?? ''));
        const info = bearer ? userInfos.get(bearer[1]) : undefined;
        return info ? { status: 200, body: info } : { status: 401, body: { error: 'invalid_token' } };
      }
      if (received.path !== CHECK_TOKEN && received.path !== INTROSPECT) {
        return { status: 404, body: { error: 'not_found' } };
      }
      if (token === 'garbled') {
        return { status: 200, body: '<html>oops</html>' };
      }
      if (token === 'check-token-refusal') {
        // AM 1.x's check_token refuses an unknown token with a 400.
        return { status: 400, body: { error: 'invalid_token' } };
      }
      if (token === 'check-token-other-400') {
        return { status: 400, body: { error: 'invalid_request' } };
      }
      const payload = token === undefined ? undefined : server.tokens.get(token);
      return { status: 200, body: payload ?? { active: false } };
    };
    const am = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      type: 'gravitee-am' as const,
      serverURL: `${url}/am/`,
      securityDomain: DOMAIN,
      clientId: CLIENT_ID,
      clientSecret: SECRET,
      timeout: 2000,
      ...extra,
    });
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            am('am-v1', { version: 'V1_X' }),
            am('am-v2', { version: 'V2_X' }),
            am('am-v3', { version: 'V3_X' }),
            am('am-default'),
            am('am-username', { userClaim: 'username' }),
          ],
          policy: { oauthResource: 'am-v3' },
        }),
      ],
      controllers: [AmController, RegistryController],
    });
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  beforeEach(() => {
    server.reset();
    userInfos.clear();
  });

  /** The request shape every version shares: POST, form `token` only, Basic client authentication. */
  function expectAmIntrospection(received: ReceivedRequest, path: string, token: string): void {
    expect(received.method).toBe('POST');
    expect(received.url).toBe(path);
    expect(received.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect([...received.form.entries()]).toEqual([['token', token]]);
    expect(received.headers.authorization).toBe(
      `Basic ${Buffer.from('am+client:am%3Ase+cr%25t%2B').toString('base64')}`,
    );
    expect(decodeClientBasic(received.headers.authorization as string)).toEqual({
      clientId: CLIENT_ID,
      clientSecret: SECRET,
    });
  }

  describe('V1_X', () => {
    it('introspects at /{domain}/oauth/check_token and accepts an answer without active', async () => {
      server.tokens.set('v1-token', { client_id: 'c', scope: 'read write', sub: 'u-1' });
      await get('/am/am-v1', 'Bearer v1-token').expect(200, { user: 'u-1', roles: ['read', 'write'] });
      expectAmIntrospection(onlyRequest(), CHECK_TOKEN, 'v1-token');
    });

    it('takes an answer without active as active, but never an explicit active: false (issue 5: no inactive token through)', async () => {
      server.tokens.set('v1-inactive', { active: false, sub: 'u-2' });
      const response = await get('/am/am-v1', 'Bearer v1-inactive');
      expect(response.status).toBe(401);
      expect(response.body).toEqual(specErrorBody('OAUTH2_INVALID_ACCESS_TOKEN'));
    });

    it('still checks exp', async () => {
      server.tokens.set('v1-expired', { sub: 'u-3', exp: Math.floor(Date.now() / 1000) - 3600 });
      const response = await get('/am/am-v1', 'Bearer v1-expired');
      expect(response.status).toBe(401);
      expect(response.body).toEqual(specErrorBody('OAUTH2_INVALID_ACCESS_TOKEN'));
    });

    it('rejects a 200 that is not JSON with OAUTH2_INVALID_SERVER_RESPONSE', async () => {
      const response = await get('/am/am-v1', 'Bearer garbled');
      expect(response.status).toBe(403);
      expect(response.body).toEqual(specErrorBody('OAUTH2_INVALID_SERVER_RESPONSE'));
    });

    it("reads check_token's 400 invalid_token refusal as an invalid token, not an outage", async () => {
      const response = await get('/am/am-v1', 'Bearer check-token-refusal');
      expect(response.status).toBe(401);
      expect(response.body).toEqual(specErrorBody('OAUTH2_INVALID_ACCESS_TOKEN'));
      expect(response.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token"');
    });

    it('maps any other 400 to OAUTH2_SERVER_UNAVAILABLE', async () => {
      const response = await get('/am/am-v1', 'Bearer check-token-other-400');
      expect(response.status).toBe(403);
      expect(response.body).toEqual(specErrorBody('OAUTH2_SERVER_UNAVAILABLE'));
    });
  });

  describe.each(['am-v2', 'am-v3', 'am-default'])('%s (V2_X / V3_X, the default)', (name) => {
    it('introspects at /{domain}/oauth/introspect and accepts active: true', async () => {
      server.tokens.set('active', { active: true, sub: 'u-1', scope: 'read' });
      await get(`/am/${name}`, 'Bearer active').expect(200, { user: 'u-1', roles: ['read'] });
      expectAmIntrospection(onlyRequest(), INTROSPECT, 'active');
    });

    it('rejects an answer without active as an invalid token (401 OAUTH2_INVALID_ACCESS_TOKEN)', async () => {
      server.tokens.set('no-active', { sub: 'u-1', scope: 'read' });
      const response = await get(`/am/${name}`, 'Bearer no-active');
      expect(response.status).toBe(401);
      expect(response.body).toEqual(specErrorBody('OAUTH2_INVALID_ACCESS_TOKEN'));
      expect(response.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token"');
    });

    it('rejects active: false', async () => {
      server.tokens.set('inactive', { active: false });
      const response = await get(`/am/${name}`, 'Bearer inactive');
      expect(response.status).toBe(401);
      expect(response.body).toEqual(specErrorBody('OAUTH2_INVALID_ACCESS_TOKEN'));
    });
  });

  describe('userClaim', () => {
    it('reads the user from the custom claim', async () => {
      server.tokens.set('named', { active: true, sub: 's-1', username: 'alice' });
      await get('/am/am-username', 'Bearer named').expect(200, { user: 'alice', roles: [] });
      await get('/am/am-v3', 'Bearer named').expect(200, { user: 's-1', roles: [] });
    });
  });

  describe('OAuth2ResourceRegistry injected into a controller', () => {
    it.each([
      ['am-v3', USERINFO_OIDC],
      ['am-v2', USERINFO_OIDC],
      ['am-v1', USERINFO_V1],
    ])('%s userInfo(token): GET %s with the token as Bearer', async (name, path) => {
      userInfos.set('ui-token', { sub: 'u-9', email: 'u9@example.com' });
      await request(app.getHttpServer())
        .get(`/registry/${name}/userinfo`)
        .set('X-Token', 'ui-token')
        .expect(200, { sub: 'u-9', email: 'u9@example.com' });
      const received = onlyRequest();
      expect(received.method).toBe('GET');
      expect(received.url).toBe(path);
      expect(received.headers.authorization).toBe('Bearer ui-token');
    });

    it('introspect(token) on V3_X: a missing active is inactive', async () => {
      server.tokens.set('bare', { sub: 'u-1' });
      await request(app.getHttpServer())
        .get('/registry/am-v3/introspect')
        .set('X-Token', 'bare')
        .expect(200, { active: false, payload: { sub: 'u-1' } });
      expectAmIntrospection(onlyRequest(), INTROSPECT, 'bare');
    });

    it('introspect(token) on V1_X: any valid answer is active', async () => {
      server.tokens.set('bare', { sub: 'u-1' });
      await request(app.getHttpServer())
        .get('/registry/am-v1/introspect')
        .set('X-Token', 'bare')
        .expect(200, { active: true, payload: { sub: 'u-1' } });
      expectAmIntrospection(onlyRequest(), CHECK_TOKEN, 'bare');
    });
  });
});
