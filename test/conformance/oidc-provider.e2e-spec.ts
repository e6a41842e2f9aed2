import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import {
  OAuth2Guard,
  OAuth2Module,
  OAuth2Payload,
  OAuth2Policy,
  RequiredScopes,
  TokenCacheRegistry,
  type GenericOAuth2ResourceOptions,
} from '../../lib';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';

/**
 * Conformance with a real authorization server: node-oidc-provider 9 (sample/demo-authorization-server.mjs),
 * started once for the run by the jest global setup, which passes its address and clients as OIDC_*
 * environment variables. Tokens are obtained from it with the client_credentials grant and revoked at
 * its RFC 7009 endpoint; the API introspects them at its RFC 7662 endpoint.
 */

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run these tests through jest, whose global setup (test/support/global-setup.mjs) ` +
        'starts the authorization server',
    );
  }
  return value;
}

const provider = {
  issuer: env('OIDC_ISSUER'),
  tokenUrl: env('OIDC_TOKEN_URL'),
  introspectionUrl: env('OIDC_INTROSPECTION_URL'),
  revocationUrl: env('OIDC_REVOCATION_URL'),
  tokenClient: { clientId: env('OIDC_TOKEN_CLIENT_ID'), clientSecret: env('OIDC_TOKEN_CLIENT_SECRET') },
  introspectionClient: {
    clientId: env('OIDC_INTROSPECTION_CLIENT_ID'),
    clientSecret: env('OIDC_INTROSPECTION_CLIENT_SECRET'),
  },
};

/** Every bounded wait of these tests. */
const PROVIDER_TIMEOUT_MS = 5000;

/** HTTP Basic client authentication as RFC 6749 §2.3.1 says: form-encode id and secret, then base64. */
function basic(clientId: string, clientSecret: string): string {
  const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64')}`;
}

/** A POST of a form to the provider, as the token client unless told otherwise. */
async function postForm(
  url: string,
  form: Record<string, string>,
  authorization = basic(provider.tokenClient.clientId, provider.tokenClient.clientSecret),
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      Authorization: authorization,
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    },
    body: new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
  });
}

/** A new access token from the provider (client_credentials), with these scopes (none: no `scope` parameter). */
async function obtainToken(...scopes: string[]): Promise<string> {
  const response = await postForm(provider.tokenUrl, {
    grant_type: 'client_credentials',
    ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
  });
  const body = (await response.json()) as { access_token?: string; scope?: string; token_type?: string };
  expect(response.status).toBe(200);
  expect(body.token_type).toBe('Bearer');
  // The provider grants exactly the requested scopes (all of them are allowed to the token client).
  expect(body.scope).toBe(scopes.length > 0 ? scopes.join(' ') : undefined);
  expect(typeof body.access_token).toBe('string');
  return body.access_token!;
}

/** Revokes a token at the provider (RFC 7009), as the client it was issued to. */
async function revoke(token: string): Promise<void> {
  const response = await postForm(provider.revocationUrl, { token, token_type_hint: 'access_token' });
  expect(response.status).toBe(200);
}

/** What the provider itself says of a token, asked directly as the introspection client. */
async function providerSaysActive(token: string): Promise<boolean> {
  const { clientId, clientSecret } = provider.introspectionClient;
  const response = await postForm(provider.introspectionUrl, { token }, basic(clientId, clientSecret));
  expect(response.status).toBe(200);
  return ((await response.json()) as { active: boolean }).active;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** The provider's resource, introspecting as the introspection client (its secret holds `:`, `%`, `+`, space). */
function oidcResource(extra: Partial<GenericOAuth2ResourceOptions> = {}): GenericOAuth2ResourceOptions {
  return {
    name: 'oidc-provider',
    type: 'generic',
    introspectionEndpoint: provider.introspectionUrl,
    clientId: provider.introspectionClient.clientId,
    clientSecret: provider.introspectionClient.clientSecret,
    timeout: PROVIDER_TIMEOUT_MS,
    ...extra,
  };
}

@Controller('orders')
@UseGuards(OAuth2Guard)
class OrdersController {
  @Get()
  @RequiredScopes('orders:read')
  list(
    @OAuth2Payload() payload: Record<string, unknown>,
    @OAuth2Payload('$.client_id') clientId: unknown,
    @OAuth2Payload('$.scope') scope: unknown,
  ) {
    return { payload, clientId, scope };
  }

  /** Strict (the default): both scopes. */
  @Get('all')
  @RequiredScopes('orders:read', 'orders:write')
  all() {
    return { ok: true };
  }

  /** Permissive: either scope. */
  @Get('any')
  @RequiredScopes('orders:read', 'orders:write')
  @OAuth2Policy({ modeStrict: false })
  any() {
    return { ok: true };
  }
}

/** The same route under two caches: entries live 1 s in `short`, 60 s in `long`. */
@Controller('cached')
@UseGuards(OAuth2Guard)
class CachedController {
  @Get('short')
  @RequiredScopes('orders:read')
  @OAuth2Policy({ oauthCacheResource: 'short' })
  short() {
    return { ok: true };
  }

  @Get('long')
  @RequiredScopes('orders:read')
  @OAuth2Policy({ oauthCacheResource: 'long' })
  long() {
    return { ok: true };
  }
}

function expectError(
  response: request.Response,
  key: 'OAUTH2_INVALID_ACCESS_TOKEN' | 'OAUTH2_INSUFFICIENT_SCOPE' | 'OAUTH2_SERVER_UNAVAILABLE',
  wwwAuthenticate: string,
): void {
  const status = key === 'OAUTH2_INVALID_ACCESS_TOKEN' ? 401 : 403;
  expect({ status: response.status, key: response.body.key }).toEqual({ status, key });
  expect(response.body.statusCode).toBe(status);
  expect(response.headers['www-authenticate']).toBe(wwwAuthenticate);
}

const INVALID_TOKEN_CHALLENGE = 'Bearer realm="api", error="invalid_token"';

describe.each(ADAPTERS)('conformance with node-oidc-provider on %s', (adapter) => {
  let app: INestApplication;
  let cachedApp: INestApplication;
  let wrongCredentialsApp: INestApplication;
  const wrongCredentialsLogger = new RecordingLogger();

  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [oidcResource()],
          policy: { oauthResource: 'oidc-provider', extractPayload: true },
        }),
      ],
      controllers: [OrdersController],
    });
    cachedApp = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [oidcResource()],
          caches: [
            { name: 'short', timeToLiveSeconds: 1 },
            { name: 'long', timeToLiveSeconds: 60 },
          ],
          policy: { oauthResource: 'oidc-provider' },
        }),
      ],
      controllers: [CachedController],
    });
    wrongCredentialsApp = await startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [oidcResource({ clientSecret: 'not the secret' })],
            policy: { oauthResource: 'oidc-provider' },
          }),
        ],
        controllers: [OrdersController],
      },
      wrongCredentialsLogger,
    );
  });

  afterAll(async () => {
    await Promise.all([app?.close(), cachedApp?.close(), wrongCredentialsApp?.close()]);
  });

  it('passes a token with the required scope; the handler gets the payload and JsonPath values', async () => {
    const token = await obtainToken('orders:read');

    const response = await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);

    expect(response.status).toBe(200);
    expect(response.body.clientId).toBe(provider.tokenClient.clientId);
    expect(response.body.scope).toBe('orders:read');
    expect(response.body.payload).toMatchObject({
      active: true,
      client_id: provider.tokenClient.clientId,
      scope: 'orders:read',
      iss: provider.issuer,
      token_type: 'Bearer',
    });
    expect(typeof response.body.payload.exp).toBe('number');
    expect(typeof response.body.payload.iat).toBe('number');
  });

  it('authenticates the introspection client whose secret holds ":", "%", "+" and a space', async () => {
    const { clientId, clientSecret } = provider.introspectionClient;
    for (const character of [':', '%', '+', ' ']) {
      expect(clientSecret).toContain(character);
    }
    // The app introspects with this client: a 200 proves the provider accepted its Basic credentials.
    const token = await obtainToken('orders:read');
    await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);

    // The provider insists on RFC 6749 §2.3.1: the same secret sent raw (not form-encoded) is refused.
    const raw = `Basic ${Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64')}`;
    const refused = await postForm(provider.introspectionUrl, { token }, raw);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('refuses a token without the required scope with 403 OAUTH2_INSUFFICIENT_SCOPE (strict)', async () => {
    const writeOnly = await obtainToken('orders:write');
    const noScope = await obtainToken();
    const readOnly = await obtainToken('orders:read');

    expectError(
      await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${writeOnly}`),
      'OAUTH2_INSUFFICIENT_SCOPE',
      'Bearer realm="api", error="insufficient_scope", scope="orders:read"',
    );
    expectError(
      await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${noScope}`),
      'OAUTH2_INSUFFICIENT_SCOPE',
      'Bearer realm="api", error="insufficient_scope", scope="orders:read"',
    );
    expectError(
      await request(app.getHttpServer()).get('/orders/all').set('Authorization', `Bearer ${readOnly}`),
      'OAUTH2_INSUFFICIENT_SCOPE',
      'Bearer realm="api", error="insufficient_scope", scope="orders:read orders:write"',
    );
  });

  it('passes a token with both scopes in strict mode, and one with one of two scopes in permissive mode', async () => {
    const both = await obtainToken('orders:read', 'orders:write');
    const writeOnly = await obtainToken('orders:write');
    const noScope = await obtainToken();

    await request(app.getHttpServer())
      .get('/orders/all')
      .set('Authorization', `Bearer ${both}`)
      .expect(200, { ok: true });
    await request(app.getHttpServer())
      .get('/orders/any')
      .set('Authorization', `Bearer ${writeOnly}`)
      .expect(200, { ok: true });
    expectError(
      await request(app.getHttpServer()).get('/orders/any').set('Authorization', `Bearer ${noScope}`),
      'OAUTH2_INSUFFICIENT_SCOPE',
      'Bearer realm="api", error="insufficient_scope", scope="orders:read orders:write"',
    );
  });

  it('refuses a token the provider never issued with 401 OAUTH2_INVALID_ACCESS_TOKEN', async () => {
    const response = await request(app.getHttpServer())
      .get('/orders')
      .set('Authorization', 'Bearer never-issued-by-this-provider-0123456789abcdefghijk');

    expectError(response, 'OAUTH2_INVALID_ACCESS_TOKEN', INVALID_TOKEN_CHALLENGE);
  });

  it('refuses a revoked token with 401 OAUTH2_INVALID_ACCESS_TOKEN (no cache)', async () => {
    const token = await obtainToken('orders:read');
    await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);

    await revoke(token);

    expect(await providerSaysActive(token)).toBe(false);
    expectError(
      await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`),
      'OAUTH2_INVALID_ACCESS_TOKEN',
      INVALID_TOKEN_CHALLENGE,
    );
  });

  it('refuses the token in the wrong case with 401 OAUTH2_INVALID_ACCESS_TOKEN (tokens are case-sensitive)', async () => {
    const token = await obtainToken('orders:read');
    const upperCased = token.toUpperCase();
    expect(upperCased).not.toBe(token);

    expectError(
      await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${upperCased}`),
      'OAUTH2_INVALID_ACCESS_TOKEN',
      INVALID_TOKEN_CHALLENGE,
    );
    // The real token still passes: only the case changed.
    await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
  });

  it("answers 403 OAUTH2_SERVER_UNAVAILABLE when the provider refuses the API's client credentials (401)", async () => {
    const token = await obtainToken('orders:read');
    // The provider's own answer to wrong credentials: 401 invalid_client.
    const direct = await postForm(
      provider.introspectionUrl,
      { token },
      basic(provider.introspectionClient.clientId, 'not the secret'),
    );
    expect(direct.status).toBe(401);
    expect(((await direct.json()) as { error: string }).error).toBe('invalid_client');

    expectError(
      await request(wrongCredentialsApp.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`),
      'OAUTH2_SERVER_UNAVAILABLE',
      'Bearer realm="api"',
    );
    // Neither the token nor a secret reaches the logs.
    const logs = wrongCredentialsLogger.lines.join('\n');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain('not the secret');
    expect(logs).not.toContain(provider.introspectionClient.clientSecret);
  });

  it('with a memory cache, accepts a revoked token until its entry expires (timeToLiveSeconds: 1), then refuses it', async () => {
    const token = await obtainToken('orders:read');
    await request(cachedApp.getHttpServer()).get('/cached/short').set('Authorization', `Bearer ${token}`).expect(200);
    const cachedAt = Date.now();

    await revoke(token);
    expect(await providerSaysActive(token)).toBe(false);

    // The cached introspection answer still stands: the revocation is not seen yet.
    if (Date.now() - cachedAt < 900) {
      await request(cachedApp.getHttpServer()).get('/cached/short').set('Authorization', `Bearer ${token}`).expect(200);
    }

    // Once the entry has expired (1 s), the token is introspected again and refused.
    await sleep(Math.max(0, cachedAt + 1500 - Date.now()));
    expectError(
      await request(cachedApp.getHttpServer()).get('/cached/short').set('Authorization', `Bearer ${token}`),
      'OAUTH2_INVALID_ACCESS_TOKEN',
      INVALID_TOKEN_CHALLENGE,
    );
  });

  it('with a memory cache, refuses a revoked token at once after TokenCacheRegistry.evict(token)', async () => {
    const token = await obtainToken('orders:read');
    await request(cachedApp.getHttpServer()).get('/cached/long').set('Authorization', `Bearer ${token}`).expect(200);

    await revoke(token);
    expect(await providerSaysActive(token)).toBe(false);
    // Cached for 60 s: still accepted.
    await request(cachedApp.getHttpServer()).get('/cached/long').set('Authorization', `Bearer ${token}`).expect(200);

    await cachedApp.get(TokenCacheRegistry).evict(token);

    expectError(
      await request(cachedApp.getHttpServer()).get('/cached/long').set('Authorization', `Bearer ${token}`),
      'OAUTH2_INVALID_ACCESS_TOKEN',
      INVALID_TOKEN_CHALLENGE,
    );
  });
});
