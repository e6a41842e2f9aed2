import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2ErrorProfile, OAuth2Guard, OAuth2Module, OAuth2Policy, RequiredScopes } from '../../lib';
import { SPEC_ERRORS, SpecErrorKey, refusedUrl } from '../support/e2e-kit';
import { startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 5, error profiles: every key provoked for real under `documented`, `gateway` and `rfc`, on
 * Express and Fastify: status, body, `WWW-Authenticate` and `Retry-After`; templates on top of a
 * profile; a wrong profile stops the start.
 */

@Controller('p')
@UseGuards(OAuth2Guard)
class ProfileController {
  @Get('open')
  open() {
    return { ok: true };
  }

  @Get('no-server')
  @OAuth2Policy({ oauthResource: () => undefined })
  noServer() {
    return { ok: true };
  }

  @Get('down')
  @OAuth2Policy({ oauthResource: 'down' })
  down() {
    return { ok: true };
  }

  @Get('scoped')
  @RequiredScopes('a', 'b')
  scoped() {
    return { ok: true };
  }

  @Get('query')
  @OAuth2Policy({ allowAccessTokenQueryParam: true })
  query() {
    return { ok: true };
  }
}

const REALM = 'orders';
const RETRY_AFTER = 9;
const plain = `Bearer realm="${REALM}"`;
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** [status, WWW-Authenticate, Retry-After] of each key under each profile, from the specification. */
const EXPECTED: Record<OAuth2ErrorProfile, Record<SpecErrorKey, [number, string | undefined, string | undefined]>> = {
  documented: {
    OAUTH2_MISSING_SERVER: [401, undefined, undefined],
    OAUTH2_MISSING_HEADER: [401, plain, undefined],
    OAUTH2_MISSING_ACCESS_TOKEN: [401, plain, undefined],
    OAUTH2_INVALID_ACCESS_TOKEN: [401, `${plain}, error="invalid_token"`, undefined],
    OAUTH2_INVALID_SERVER_RESPONSE: [403, plain, undefined],
    OAUTH2_SERVER_UNAVAILABLE: [403, plain, undefined],
    OAUTH2_INSUFFICIENT_SCOPE: [403, `${plain}, error="insufficient_scope", scope="a b"`, undefined],
  },
  gateway: {
    OAUTH2_MISSING_SERVER: [401, undefined, undefined],
    OAUTH2_MISSING_HEADER: [401, plain, undefined],
    OAUTH2_MISSING_ACCESS_TOKEN: [401, plain, undefined],
    OAUTH2_INVALID_ACCESS_TOKEN: [401, `${plain}, error="invalid_token"`, undefined],
    OAUTH2_INVALID_SERVER_RESPONSE: [401, plain, undefined],
    OAUTH2_SERVER_UNAVAILABLE: [503, plain, undefined],
    OAUTH2_INSUFFICIENT_SCOPE: [401, `${plain}, error="insufficient_scope", scope="a b"`, undefined],
  },
  rfc: {
    OAUTH2_MISSING_SERVER: [403, undefined, undefined],
    OAUTH2_MISSING_HEADER: [401, plain, undefined],
    OAUTH2_MISSING_ACCESS_TOKEN: [400, `${plain}, error="invalid_request"`, undefined],
    OAUTH2_INVALID_ACCESS_TOKEN: [401, `${plain}, error="invalid_token"`, undefined],
    OAUTH2_INVALID_SERVER_RESPONSE: [503, undefined, String(RETRY_AFTER)],
    OAUTH2_SERVER_UNAVAILABLE: [503, undefined, String(RETRY_AFTER)],
    OAUTH2_INSUFFICIENT_SCOPE: [403, `${plain}, error="insufficient_scope", scope="a b"`, undefined],
  },
};

/** How each key is provoked: a path and an Authorization header. */
const PROVOKE: Array<[SpecErrorKey, string, string | undefined]> = [
  ['OAUTH2_MISSING_SERVER', '/p/no-server', 'Bearer good'],
  ['OAUTH2_MISSING_HEADER', '/p/open', undefined],
  ['OAUTH2_MISSING_HEADER', '/p/open', 'Basic dXNlcjpwYXNz'],
  ['OAUTH2_MISSING_ACCESS_TOKEN', '/p/open', 'Bearer'],
  ['OAUTH2_MISSING_ACCESS_TOKEN', '/p/query?access_token=', undefined],
  ['OAUTH2_INVALID_ACCESS_TOKEN', '/p/open', 'Bearer revoked'],
  ['OAUTH2_INVALID_SERVER_RESPONSE', '/p/open', 'Bearer garbled'],
  ['OAUTH2_SERVER_UNAVAILABLE', '/p/down', 'Bearer good'],
  ['OAUTH2_INSUFFICIENT_SCOPE', '/p/scoped', 'Bearer good'],
];

describe.each(ADAPTERS)('error profiles, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let baseUrl: string;
  let downUrl: string;

  beforeAll(async () => {
    baseUrl = await server.start();
    downUrl = await refusedUrl();
    server.script = (_received, token) => {
      if (token === 'garbled') {
        return { status: 200, body: '<html>oops</html>' };
      }
      // The authorization server's own back-off, which the rfc profile passes on.
      if (token === 'throttled') {
        return { status: 429, headers: { 'Retry-After': '42' }, body: { error: 'slow_down' } };
      }
      if (token === 'maintenance') {
        return { status: 503, headers: { 'Retry-After': new Date(Date.now() + 90_000).toUTCString() }, body: {} };
      }
      if (token === 'odd-back-off') {
        return { status: 503, headers: { 'Retry-After': 'soon' }, body: {} };
      }
      if (token === 'failing-with-back-off') {
        return { status: 500, headers: { 'Retry-After': '42' }, body: {} };
      }
      return { status: 200, body: token === 'good' ? { active: true, scope: 'x' } : { active: false } };
    };
  });

  afterAll(async () => {
    await server.stop();
  });

  const start = (errorProfile: OAuth2ErrorProfile | undefined, extra: Record<string, unknown> = {}) =>
    startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            { name: 'as', type: 'generic', introspectionEndpoint: `${baseUrl}/introspect` },
            { name: 'down', type: 'generic', introspectionEndpoint: `${downUrl}/introspect`, timeout: 1000 },
          ],
          policy: { oauthResource: 'as' },
          realm: REALM,
          retryAfterSeconds: RETRY_AFTER,
          ...(errorProfile && { errorProfile }),
          ...extra,
        }),
      ],
      controllers: [ProfileController],
    });

  describe.each(['documented', 'gateway', 'rfc'] as const)('%s', (profile) => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await start(profile);
    });

    afterAll(async () => {
      await app?.close();
    });

    it.each(PROVOKE)('answers %s (%s, Authorization %p) as the profile says', async (key, path, authorization) => {
      const call = request(app.getHttpServer()).get(path);
      const response = await (authorization === undefined ? call : call.set('Authorization', authorization));
      const [status, challenge, retryAfter] = EXPECTED[profile][key];
      expect({ status: response.status, body: response.body }).toEqual({
        status,
        body: { statusCode: status, error: REASONS[status], message: SPEC_ERRORS[key].message, key },
      });
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['www-authenticate']).toBe(challenge);
      expect(response.headers['retry-after']).toBe(retryAfter);
    });

    it('lets a valid token through', async () => {
      server.tokens.set('good', { active: true });
      await request(app.getHttpServer()).get('/p/open').set('Authorization', 'Bearer good').expect(200, { ok: true });
    });
  });

  it("passes the authorization server's own Retry-After of a 429 or 503 on, in the rfc profile", async () => {
    const app = await start('rfc');
    try {
      const retryAfterOf = async (token: string) => {
        const response = await request(app.getHttpServer()).get('/p/open').set('Authorization', `Bearer ${token}`);
        expect(response.status).toBe(503);
        expect(response.body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
        return response.headers['retry-after'];
      };
      expect(await retryAfterOf('throttled')).toBe('42');
      // An HTTP-date 90 s ahead: about 90 s, whatever the time the request took.
      expect(Number(await retryAfterOf('maintenance'))).toBeGreaterThanOrEqual(85);
      expect(Number(await retryAfterOf('maintenance'))).toBeLessThanOrEqual(90);
      // Unreadable, or on a status that is no back-off: the configured value.
      expect(await retryAfterOf('odd-back-off')).toBe(String(RETRY_AFTER));
      expect(await retryAfterOf('failing-with-back-off')).toBe(String(RETRY_AFTER));
    } finally {
      await app.close();
    }
  });

  it('is the documented profile when errorProfile is not set', async () => {
    const app = await start(undefined);
    try {
      const response = await request(app.getHttpServer()).get('/p/down').set('Authorization', 'Bearer good');
      expect(response.status).toBe(403);
      expect(response.headers['retry-after']).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('lets response templates override the rfc profile per key and media type', async () => {
    const app = await start('rfc', {
      responseTemplates: {
        OAUTH2_SERVER_UNAVAILABLE: {
          'application/json': { status: 500, body: { error: 'temporarily_unavailable' } },
          'text/plain': { headers: { 'Retry-After': '120' }, body: 'down' },
        },
        OAUTH2_MISSING_ACCESS_TOKEN: { '*/*': { status: 401 } },
      },
    });
    try {
      const json = await request(app.getHttpServer())
        .get('/p/down')
        .set('Authorization', 'Bearer good')
        .set('Accept', 'application/json');
      expect({ status: json.status, body: json.body, retryAfter: json.headers['retry-after'] }).toEqual({
        status: 500,
        body: { error: 'temporarily_unavailable' },
        retryAfter: String(RETRY_AFTER),
      });
      const text = await request(app.getHttpServer())
        .get('/p/down')
        .set('Authorization', 'Bearer good')
        .set('Accept', 'text/plain');
      expect({ status: text.status, text: text.text, retryAfter: text.headers['retry-after'] }).toEqual({
        status: 503,
        text: 'down',
        retryAfter: '120',
      });
      const missing = await request(app.getHttpServer()).get('/p/open').set('Authorization', 'Bearer');
      expect(missing.status).toBe(401);
      expect(missing.body).toMatchObject({
        statusCode: 401,
        error: 'Unauthorized',
        key: 'OAUTH2_MISSING_ACCESS_TOKEN',
      });
      expect(missing.headers['www-authenticate']).toBe(`${plain}, error="invalid_request"`);
    } finally {
      await app.close();
    }
  });

  it.each([
    [{ errorProfile: 'strict' }, "errorProfile must be one of 'documented', 'gateway', 'rfc'"],
    [{ retryAfterSeconds: 0 }, 'retryAfterSeconds must be an integer'],
  ])('refuses to start with %p', async (extra, message) => {
    const error = await startupError(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [{ name: 'as', type: 'generic', introspectionEndpoint: `${baseUrl}/introspect` }],
          ...extra,
        } as never),
      ],
      controllers: [ProfileController],
    });
    expect(error.message).toContain(message);
  });
});
