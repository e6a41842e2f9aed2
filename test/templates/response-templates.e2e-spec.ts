import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import request, { Response } from 'supertest';
import { OAuth2Guard, OAuth2Module, RequiredScopes } from '../../lib';
import { specErrorBody } from '../support/e2e-kit';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * `responseTemplates`: per error key, per media type of the request's `Accept` header, with the
 * `*\/*` fallback; status, headers and body replace the defaults, unset parts keep them.
 */

@Controller('t')
@UseGuards(OAuth2Guard)
class TemplatesController {
  @Get('open')
  open() {
    return { ok: true };
  }

  @Get('scoped')
  @RequiredScopes('orders:read', 'orders:write')
  scoped() {
    return { ok: true };
  }
}

const CHALLENGE = 'Bearer realm="api"';

describe.each(ADAPTERS)('response templates on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;

  /** A request to a route, with an `Accept` header when one is given. */
  const call = (path: string, authorization: string | undefined, accept: string | undefined): Promise<Response> => {
    let test = request(app.getHttpServer()).get(path);
    if (authorization !== undefined) {
      test = test.set('Authorization', authorization);
    }
    if (accept !== undefined) {
      test = test.set('Accept', accept);
    }
    return test.then((response) => response);
  };

  beforeAll(async () => {
    const url = await server.start();
    server.script = (_received, token) => {
      if (token === 'down') {
        return { status: 500, body: { error: 'server_error' } };
      }
      if (token === 'garbled') {
        return { status: 200, body: 'not json' };
      }
      const payload = token === undefined ? undefined : server.tokens.get(token);
      return { status: 200, body: payload ?? { active: false } };
    };
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            {
              name: 'as',
              type: 'generic',
              introspectionEndpoint: `${url}/introspect`,
              clientId: 'api',
              clientSecret: 's',
              timeout: 2000,
            },
          ],
          policy: { oauthResource: 'as' },
          responseTemplates: {
            OAUTH2_MISSING_HEADER: {
              // Listed before `text/plain` on purpose: the exact media type must win over the wildcard.
              'text/*': { body: 'text wildcard template' },
              'application/json': { status: 400, body: { error: 'json_template', hint: 'send a bearer token' } },
              'text/plain': { body: 'plain template' },
              '*/*': { headers: { 'X-Template': 'fallback' }, body: 'fallback template' },
            },
            OAUTH2_SERVER_UNAVAILABLE: {
              'application/json': {
                status: 503,
                headers: { 'Retry-After': '5' },
                body: '{"error":"temporarily_unavailable"}',
              },
              '*/*': { status: 503, body: 'temporarily unavailable' },
            },
            OAUTH2_INSUFFICIENT_SCOPE: {
              '*/*': { headers: { 'WWW-Authenticate': 'Bearer realm="orders", error="insufficient_scope"' } },
            },
            OAUTH2_INVALID_SERVER_RESPONSE: {
              'application/json': { status: 502 },
            },
            OAUTH2_MISSING_ACCESS_TOKEN: {
              'text/html': {
                headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
                body: '<p>no token</p>',
              },
            },
          },
        }),
      ],
      controllers: [TemplatesController],
    });
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  beforeEach(() => {
    server.reset();
    server.tokens.set('good', { active: true, scope: 'orders:read orders:write' });
    server.tokens.set('reader', { active: true, scope: 'orders:read' });
  });

  describe('choice of the template by Accept', () => {
    it('chooses the application/json template for Accept: application/json (object body sent as JSON, status overridden)', async () => {
      const response = await call('/t/open', undefined, 'application/json');
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({ error: 'json_template', hint: 'send a bearer token' });
      expect(JSON.parse(response.text)).toEqual({ error: 'json_template', hint: 'send a bearer token' });
      expect(response.headers['www-authenticate']).toBe(CHALLENGE);
      expect(response.headers['x-template']).toBeUndefined();
    });

    it('chooses the text/plain template for Accept: text/plain, over an earlier text/* one (string body as is, status kept)', async () => {
      const response = await call('/t/open', undefined, 'text/plain');
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.text).toBe('plain template');
      expect(response.headers['www-authenticate']).toBe(CHALLENGE);
    });

    it('chooses the text/* template for another text type', async () => {
      const response = await call('/t/open', undefined, 'text/html');
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.text).toBe('text wildcard template');
    });

    it('matches media types case-insensitively, and reads application/* as any application type', async () => {
      expect((await call('/t/open', undefined, 'Application/JSON')).body).toEqual({
        error: 'json_template',
        hint: 'send a bearer token',
      });
      expect((await call('/t/open', undefined, 'application/*')).status).toBe(400);
    });

    it.each([
      ['no Accept header', undefined],
      ['Accept: */*', '*/*'],
      ['an Accept with no template (image/png)', 'image/png'],
    ])('falls back to the */* template for %s (template headers sent)', async (_case, accept) => {
      const response = await call('/t/open', undefined, accept);
      expect(response.status).toBe(401);
      expect(response.text).toBe('fallback template');
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.headers['x-template']).toBe('fallback');
      expect(response.headers['www-authenticate']).toBe(CHALLENGE);
    });

    it.each([
      ['the higher q wins', 'text/plain;q=0.5, application/json;q=0.9', 400, 'json'],
      ['an omitted q is 1', 'application/json;q=0.2, text/plain', 401, 'plain template'],
      ['equal q: the first listed wins', 'text/plain, application/json', 401, 'plain template'],
      ['q=0 refuses a type', 'application/json;q=0, image/png', 401, 'fallback template'],
      ['a listed type beats a lower */*', '*/*;q=0.1, text/plain;q=0.8', 401, 'plain template'],
    ])('q-values: %s (%s)', async (_case, accept, status, expected) => {
      const response = await call('/t/open', undefined, accept);
      expect(response.status).toBe(status);
      if (expected === 'json') {
        expect(response.body).toEqual({ error: 'json_template', hint: 'send a bearer token' });
      } else {
        expect(response.text).toBe(expected);
      }
    });
  });

  describe('per key', () => {
    it('OAUTH2_SERVER_UNAVAILABLE, Accept: application/json: status 503, Retry-After, the string body as is, as JSON', async () => {
      const response = await call('/t/open', 'Bearer down', 'application/json');
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.text).toBe('{"error":"temporarily_unavailable"}');
      expect(server.requests).toHaveLength(1);
    });

    it('OAUTH2_SERVER_UNAVAILABLE, other Accept: the */* template, without the json template headers', async () => {
      const response = await call('/t/open', 'Bearer down', 'text/plain');
      expect(response.status).toBe(503);
      expect(response.text).toBe('temporarily unavailable');
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.headers['retry-after']).toBeUndefined();
    });

    it('a template header named WWW-Authenticate replaces the challenge; status and body keep their defaults', async () => {
      const response = await call('/t/scoped', 'Bearer reader', 'application/json');
      expect(response.status).toBe(403);
      expect(response.body).toEqual(specErrorBody('OAUTH2_INSUFFICIENT_SCOPE'));
      expect(response.headers['www-authenticate']).toBe('Bearer realm="orders", error="insufficient_scope"');
    });

    it('a template with only a status keeps the default JSON body (its status in step) and challenge', async () => {
      const response = await call('/t/open', 'Bearer garbled', 'application/json');
      expect(response.status).toBe(502);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({
        ...specErrorBody('OAUTH2_INVALID_SERVER_RESPONSE'),
        statusCode: 502,
        error: 'Bad Gateway',
      });
      expect(response.headers['www-authenticate']).toBe(CHALLENGE);
    });

    it('a key whose templates do not match the Accept header (and have no */*) keeps its default', async () => {
      const response = await call('/t/open', 'Bearer garbled', 'text/plain');
      expect(response.status).toBe(403);
      expect(response.body).toEqual(specErrorBody('OAUTH2_INVALID_SERVER_RESPONSE'));

      const noToken = await call('/t/open', 'Bearer', 'application/json');
      expect(noToken.status).toBe(401);
      expect(noToken.body).toEqual(specErrorBody('OAUTH2_MISSING_ACCESS_TOKEN'));
      expect(noToken.headers['cache-control']).toBeUndefined();
    });

    it('a template that sets its own Content-Type keeps it', async () => {
      const response = await call('/t/open', 'Bearer', 'text/html');
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.text).toBe('<p>no token</p>');
    });

    it.each(['application/json', 'text/plain', '*/*'])(
      'a key without templates keeps the default (Accept: %s)',
      async (accept) => {
        const response = await call('/t/open', 'Bearer never-issued', accept);
        expect(response.status).toBe(401);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        expect(response.body).toEqual(specErrorBody('OAUTH2_INVALID_ACCESS_TOKEN'));
        expect(response.headers['www-authenticate']).toBe(`${CHALLENGE}, error="invalid_token"`);
      },
    );

    it('allowed requests are untouched by the templates', async () => {
      const response = await call('/t/scoped', 'Bearer good', 'text/plain');
      expect(response.status).toBe(200);
      expect(JSON.parse(response.text)).toEqual({ ok: true });
    });
  });
});
