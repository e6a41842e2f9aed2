import { Controller, ExecutionContext, Get, Headers, INestApplication, Param, UseGuards } from '@nestjs/common';
import request from 'supertest';
import {
  OAuth2Attribute,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Policy,
  OAuth2ResourceRegistry,
  RequiredScopes,
} from '../../lib';
import { decodeClientBasic, specErrorBody } from '../support/e2e-kit';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ReceivedRequest, ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * The generic resource on the wire: what the scripted authorization server RECEIVED for each way of
 * shaping the introspection request, and what the guard made of the answer.
 */

/** A client secret with every character that Basic authentication must form-encode (RFC 6749 §2.3.1). */
const SECRET = 'p:a%s+s w';
const CLIENT_ID = 'my client';
/** `CLIENT_ID:SECRET`, each form-encoded, then base64: what RFC 6749 §2.3.1 puts in the header. */
const EXPECTED_BASIC = Buffer.from('my+client:p%3Aa%25s%2Bs+w', 'utf8').toString('base64');

/** The resource named by the `:resource` segment of the route (a per-request selector). */
const resourceFromPath = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ params?: Record<string, string> }>().params?.resource;

@Controller('w')
@UseGuards(OAuth2Guard)
class WireController {
  @Get('comma/scoped')
  @OAuth2Policy({ oauthResource: 'comma' })
  @RequiredScopes('a', 'b')
  commaScoped() {
    return { ok: true };
  }

  @Get(':resource')
  @OAuth2Policy({ oauthResource: resourceFromPath })
  attributes(
    @OAuth2Attribute('user') user: string | undefined,
    @OAuth2Attribute('user.roles') roles: string[],
    @OAuth2Attribute('oauth.client_id') clientId: string | undefined,
  ) {
    return { user: user ?? null, roles, clientId: clientId ?? null };
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

/** Where each resource sends the token, so that the script can find it. */
function tokenOf(received: ReceivedRequest): string | undefined {
  switch (received.path) {
    case '/header/introspect':
      return received.headers['x-introspect-token'] as string | undefined;
    case '/get-named/introspect':
      return received.query.get('tk') ?? undefined;
    case '/custom/introspect':
      return received.form.get('tok') ?? undefined;
    default:
      return received.form.get('token') ?? received.query.get('token') ?? undefined;
  }
}

const USERINFO_PATHS = ['/realms/main/protocol/userinfo', '/ui/post'];

describe.each(ADAPTERS)('generic resource on the wire, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const userInfos = new Map<string, Record<string, unknown>>();
  let app: INestApplication;

  const get = (path: string, authorization: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', authorization);
  /** The one introspection request the server received. */
  const onlyRequest = (): ReceivedRequest => {
    expect(server.requests).toHaveLength(1);
    return server.requests[0];
  };

  beforeAll(async () => {
    const url = await server.start();
    server.script = (received) => {
      if (USERINFO_PATHS.includes(received.path)) {
        const bearer = /^Bearer (.+)$/.exec(String(received.headers.authorization ?? ''));
        const info = bearer ? userInfos.get(bearer[1]) : undefined;
        return info ? { status: 200, body: info } : { status: 401, body: { error: 'invalid_token' } };
      }
      const token = tokenOf(received);
      const payload = token === undefined ? undefined : server.tokens.get(token);
      return { status: 200, body: payload ?? { active: false } };
    };
    const common = { type: 'generic' as const, timeout: 2000 };
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            {
              ...common,
              name: 'rfc',
              introspectionEndpoint: `${url}/rfc/introspect`,
              clientId: CLIENT_ID,
              clientSecret: SECRET,
            },
            {
              ...common,
              name: 'get-query',
              introspectionEndpoint: `${url}/get/introspect`,
              introspectionEndpointMethod: 'GET',
              clientId: CLIENT_ID,
              clientSecret: SECRET,
            },
            {
              ...common,
              name: 'get-named',
              introspectionEndpoint: `${url}/get-named/introspect?tenant=t1`,
              introspectionEndpointMethod: 'GET',
              tokenIsSuppliedByQueryParam: true,
              tokenQueryParamName: 'tk',
              tokenTypeHint: false,
            },
            {
              ...common,
              name: 'header',
              introspectionEndpoint: `${url}/header/introspect`,
              tokenIsSuppliedByHttpHeader: true,
              tokenHeaderName: 'X-Introspect-Token',
              clientId: 'api',
              clientSecret: 's',
            },
            {
              ...common,
              name: 'custom',
              introspectionEndpoint: `${url}/custom/introspect`,
              tokenFormUrlEncodedName: 'tok',
              tokenTypeHint: 'urn:example:opaque',
              clientId: CLIENT_ID,
              clientSecret: SECRET,
              clientAuthorizationHeaderName: 'X-Client-Auth',
              clientAuthorizationHeaderScheme: 'Client',
            },
            {
              ...common,
              name: 'client-post',
              introspectionEndpoint: `${url}/post/introspect`,
              clientId: CLIENT_ID,
              clientSecret: SECRET,
              useClientAuthorizationHeader: false,
            },
            {
              ...common,
              name: 'based',
              authorizationServerUrl: `${url}/realms/main/`,
              introspectionEndpoint: '/protocol/introspect',
              userInfoEndpoint: '/protocol/userinfo',
              clientId: 'api',
              clientSecret: 's',
            },
            {
              ...common,
              name: 'userinfo-post',
              introspectionEndpoint: `${url}/rfc/introspect`,
              userInfoEndpoint: `${url}/ui/post`,
              userInfoEndpointMethod: 'POST',
            },
            { ...common, name: 'comma', introspectionEndpoint: `${url}/rfc/introspect`, scopeSeparator: ',' },
            {
              ...common,
              name: 'username-claim',
              introspectionEndpoint: `${url}/rfc/introspect`,
              userClaim: 'username',
            },
          ],
          policy: { oauthResource: 'rfc' },
        }),
      ],
      controllers: [WireController, RegistryController],
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

  describe('default options (RFC 7662 shape)', () => {
    it('POSTs the form token + token_type_hint=access_token, with the client in a Basic header', async () => {
      server.tokens.set('tok-1', { active: true, sub: 's-1', client_id: 'c-1', scope: 'read write' });
      await get('/w/rfc', 'Bearer tok-1').expect(200, { user: 's-1', roles: ['read', 'write'], clientId: 'c-1' });

      const received = onlyRequest();
      expect(received.method).toBe('POST');
      expect(received.url).toBe('/rfc/introspect');
      expect(received.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      expect(received.headers.accept).toMatch(/application\/json/);
      expect([...received.form.entries()]).toEqual([
        ['token', 'tok-1'],
        ['token_type_hint', 'access_token'],
      ]);
      // The API's own credentials, never the caller's bearer token.
      expect(received.headers.authorization).toBe(`Basic ${EXPECTED_BASIC}`);
    });

    it('encodes the client id and secret per RFC 6749 §2.3.1, so a server decodes them exactly', async () => {
      server.tokens.set('tok-2', { active: true });
      await get('/w/rfc', 'Bearer tok-2').expect(200);
      expect(decodeClientBasic(onlyRequest().headers.authorization as string)).toEqual({
        clientId: CLIENT_ID,
        clientSecret: SECRET,
      });
    });

    // The guard refuses such a token (not a b64token) before introspection; an application can still
    // pass any string to OAuth2ResourceRegistry.introspect().
    it('form-encodes a token holding &, =, + and % so it arrives intact, as one field', async () => {
      const token = 'a&token=evil&active=true+b%41';
      server.tokens.set(token, { active: true, sub: 'odd' });
      await request(app.getHttpServer())
        .get('/registry/rfc/introspect')
        .set('X-Token', token)
        .expect(200, { active: true, payload: { active: true, sub: 'odd' } });
      const received = onlyRequest();
      expect(received.form.getAll('token')).toEqual([token]);
      expect(received.form.has('active')).toBe(false);
      expect(received.body).toContain('token=a%26token%3Devil%26active%3Dtrue%2Bb%2541');
    });
  });

  describe('GET with the token in the query', () => {
    it('sends the token and the hint as query parameters, no body, client in Basic', async () => {
      server.tokens.set('tok-g', { active: true, sub: 'g' });
      await get('/w/get-query', 'Bearer tok-g').expect(200);
      const received = onlyRequest();
      expect(received.method).toBe('GET');
      expect(received.path).toBe('/get/introspect');
      expect([...received.query.entries()]).toEqual([
        ['token', 'tok-g'],
        ['token_type_hint', 'access_token'],
      ]);
      expect(received.body).toBe('');
      expect(received.headers['content-type']).toBeUndefined();
      expect(decodeClientBasic(received.headers.authorization as string)).toEqual({
        clientId: CLIENT_ID,
        clientSecret: SECRET,
      });
    });

    it('URL-encodes a token holding & and =, which arrives intact as one parameter (no injection)', async () => {
      const token = 'x&token=evil&active=true';
      server.tokens.set(token, { active: true, sub: 'intact' });
      // Through OAuth2ResourceRegistry.introspect(): the guard refuses such a token before introspection.
      await request(app.getHttpServer())
        .get('/registry/get-query/introspect')
        .set('X-Token', token)
        .expect(200, { active: true, payload: { active: true, sub: 'intact' } });
      const received = onlyRequest();
      expect(received.query.getAll('token')).toEqual([token]);
      expect(received.query.has('active')).toBe(false);
      expect(received.url).toContain('token=x%26token%3Devil%26active%3Dtrue');
    });

    it('uses a custom parameter name, keeps the query already in the endpoint, and sends no hint when it is false', async () => {
      server.tokens.set('tok-n', { active: true });
      await get('/w/get-named', 'Bearer tok-n').expect(200);
      const received = onlyRequest();
      expect(received.path).toBe('/get-named/introspect');
      expect([...received.query.entries()]).toEqual([
        ['tenant', 't1'],
        ['tk', 'tok-n'],
      ]);
      expect(received.headers.authorization).toBeUndefined();
    });
  });

  describe('token in a header', () => {
    it('sends the token in the named header only, with no form and no query', async () => {
      server.tokens.set('tok-h', { active: true, sub: 'h' });
      await get('/w/header', 'Bearer tok-h').expect(200, { user: 'h', roles: [], clientId: null });
      const received = onlyRequest();
      expect(received.headers['x-introspect-token']).toBe('tok-h');
      expect(received.url).toBe('/header/introspect');
      expect(received.body).toBe('');
      expect(received.headers.authorization).toBe(`Basic ${Buffer.from('api:s').toString('base64')}`);
    });
  });

  describe('custom names', () => {
    it('uses the form field name, the token_type_hint, and the client header name and scheme', async () => {
      server.tokens.set('tok-c', { active: true });
      await get('/w/custom', 'Bearer tok-c').expect(200);
      const received = onlyRequest();
      expect([...received.form.entries()]).toEqual([
        ['tok', 'tok-c'],
        ['token_type_hint', 'urn:example:opaque'],
      ]);
      expect(received.headers.authorization).toBeUndefined();
      expect(received.headers['x-client-auth']).toBe(`Client ${EXPECTED_BASIC}`);
      expect(decodeClientBasic(received.headers['x-client-auth'] as string, 'Client')).toEqual({
        clientId: CLIENT_ID,
        clientSecret: SECRET,
      });
    });

    it('sends the client credentials as form fields when useClientAuthorizationHeader is false', async () => {
      server.tokens.set('tok-p', { active: true });
      await get('/w/client-post', 'Bearer tok-p').expect(200);
      const received = onlyRequest();
      expect(received.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(received.form.entries())).toEqual({
        token: 'tok-p',
        token_type_hint: 'access_token',
        client_id: CLIENT_ID,
        client_secret: SECRET,
      });
      expect(received.url).toBe('/post/introspect');
    });
  });

  describe('authorizationServerUrl + a path endpoint', () => {
    it('introspects at the path under the base URL', async () => {
      server.tokens.set('tok-b', { active: true, sub: 'b' });
      await get('/w/based', 'Bearer tok-b').expect(200, { user: 'b', roles: [], clientId: null });
      expect(onlyRequest().url).toBe('/realms/main/protocol/introspect');
    });
  });

  describe('scopeSeparator', () => {
    it('splits the scope claim on the custom separator', async () => {
      server.tokens.set('tok-comma', { active: true, scope: 'a,b,,c' });
      await get('/w/comma', 'Bearer tok-comma').expect(200, { user: null, roles: ['a', 'b', 'c'], clientId: null });
    });

    it('honours it in the scope check: "a,b" holds a and b; "a b" is one scope', async () => {
      server.tokens.set('tok-ab', { active: true, scope: 'a,b' });
      server.tokens.set('tok-space', { active: true, scope: 'a b' });
      await get('/w/comma/scoped', 'Bearer tok-ab').expect(200, { ok: true });
      const refused = await get('/w/comma/scoped', 'Bearer tok-space');
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual(specErrorBody('OAUTH2_INSUFFICIENT_SCOPE'));
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope", scope="a b"');
    });
  });

  describe('userClaim', () => {
    it('reads the user from the custom claim; the default resource reads sub', async () => {
      server.tokens.set('tok-u', { active: true, sub: 's-1', username: 'alice', aud: ['aud-1', 'aud-2'] });
      await get('/w/username-claim', 'Bearer tok-u').expect(200, { user: 'alice', roles: [], clientId: 'aud-1' });
      await get('/w/rfc', 'Bearer tok-u').expect(200, { user: 's-1', roles: [], clientId: 'aud-1' });
    });
  });

  describe('OAuth2ResourceRegistry injected into a controller', () => {
    it('userInfo(token): GET at userInfoEndpoint with the token as Bearer, and no client credentials', async () => {
      userInfos.set('tok-ui', { sub: 'u-1', email: 'u1@example.com' });
      await request(app.getHttpServer())
        .get('/registry/based/userinfo')
        .set('X-Token', 'tok-ui')
        .expect(200, { sub: 'u-1', email: 'u1@example.com' });
      const received = onlyRequest();
      expect(received.method).toBe('GET');
      expect(received.url).toBe('/realms/main/protocol/userinfo');
      expect(received.headers.authorization).toBe('Bearer tok-ui');
      expect(received.headers.accept).toMatch(/application\/json/);
    });

    it('userInfo(token) with userInfoEndpointMethod POST', async () => {
      userInfos.set('tok-uip', { sub: 'u-2' });
      await request(app.getHttpServer())
        .get('/registry/userinfo-post/userinfo')
        .set('X-Token', 'tok-uip')
        .expect(200, { sub: 'u-2' });
      const received = onlyRequest();
      expect(received.method).toBe('POST');
      expect(received.path).toBe('/ui/post');
      expect(received.headers.authorization).toBe('Bearer tok-uip');
    });

    it('introspect(token): the active flag and the payload, with the same request as the guard', async () => {
      server.tokens.set('tok-i', { active: true, sub: 'i', scope: 'x' });
      await request(app.getHttpServer())
        .get('/registry/rfc/introspect')
        .set('X-Token', 'tok-i')
        .expect(200, { active: true, payload: { active: true, sub: 'i', scope: 'x' } });
      const received = onlyRequest();
      expect([...received.form.entries()]).toEqual([
        ['token', 'tok-i'],
        ['token_type_hint', 'access_token'],
      ]);
      expect(decodeClientBasic(received.headers.authorization as string)).toEqual({
        clientId: CLIENT_ID,
        clientSecret: SECRET,
      });
    });

    it('introspect(token) of an inactive token resolves with active: false', async () => {
      await request(app.getHttpServer())
        .get('/registry/rfc/introspect')
        .set('X-Token', 'unknown')
        .expect(200, { active: false, payload: { active: false } });
    });
  });
});
