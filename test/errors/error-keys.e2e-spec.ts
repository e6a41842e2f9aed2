import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import request, { Response } from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Policy, RequiredScopes } from '../../lib';
import { SPEC_ERRORS, SpecErrorKey, epochSeconds, specErrorBody, unrefDelay } from '../support/e2e-kit';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { Script, ScriptedAnswer, ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Every error key, provoked for real: a Nest application on Express and on Fastify, a real
 * introspection server over HTTP, and the default error rendering (status, body, challenge).
 */

@Controller('e')
@UseGuards(OAuth2Guard)
class ErrorsController {
  @Get('open')
  open() {
    return { ok: true };
  }

  @Get('unknown-server')
  @OAuth2Policy({ oauthResource: () => 'not-registered' })
  unknownServer() {
    return { ok: true };
  }

  @Get('no-server')
  @OAuth2Policy({ oauthResource: () => undefined })
  noServer() {
    return { ok: true };
  }

  @Get('strict')
  @RequiredScopes('a', 'b')
  strict() {
    return { ok: true };
  }

  @Get('permissive')
  @OAuth2Policy({ modeStrict: false })
  @RequiredScopes('a', 'b')
  permissive() {
    return { ok: true };
  }

  @Get('slow')
  @OAuth2Policy({ oauthResource: 'slow' })
  slow() {
    return { ok: true };
  }

  @Get('stopped')
  @OAuth2Policy({ oauthResource: 'stopped' })
  stopped() {
    return { ok: true };
  }
}

const CHALLENGE = 'Bearer realm="api"';

/** Asserts a default error response: status, exact body, JSON, and the challenge (or its absence). */
function expectError(response: Response, key: SpecErrorKey, challenge: string | undefined): void {
  expect({ status: response.status, body: response.body }).toEqual({
    status: SPEC_ERRORS[key].status,
    body: specErrorBody(key),
  });
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['www-authenticate']).toBe(challenge);
}

describe.each(ADAPTERS)('error keys on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const stoppedServer = new ScriptedIntrospectionServer();
  let app: INestApplication;
  let url: string;
  /** Answers for particular tokens at /introspect, on top of the `tokens` map. */
  const special = new Map<string, ScriptedAnswer>();

  const get = (path: string, authorization?: string) => {
    const call = request(app.getHttpServer()).get(path);
    return authorization === undefined ? call : call.set('Authorization', authorization);
  };

  /** Answers from `special`, else from the `tokens` map; `/followed` would accept any token. */
  const mainScript: Script = (received, token) => {
    if (received.path === '/followed') {
      return { status: 200, body: { active: true, scope: 'a b' } };
    }
    const answer = token === undefined ? undefined : special.get(token);
    if (answer) {
      return answer;
    }
    const payload = token === undefined ? undefined : server.tokens.get(token);
    return { status: 200, body: payload ?? { active: false } };
  };

  beforeAll(async () => {
    url = await server.start();
    const stoppedUrl = await stoppedServer.start();
    stoppedServer.script = () => ({ status: 200, body: { active: true } });
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
              timeout: 3000,
            },
            {
              name: 'slow',
              type: 'generic',
              introspectionEndpoint: `${url}/slow`,
              clientId: 'api',
              clientSecret: 's',
              timeout: 200,
            },
            { name: 'stopped', type: 'generic', introspectionEndpoint: `${stoppedUrl}/introspect`, timeout: 1000 },
          ],
          policy: { oauthResource: 'as' },
        }),
      ],
      controllers: [ErrorsController],
    });
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
    await stoppedServer.stop();
  });

  beforeEach(() => {
    server.reset();
    server.script = mainScript;
    special.clear();
    server.tokens.set('good', { active: true, client_id: 'c1', scope: 'a b' });
  });

  it('lets an active token through (the baseline the failures are compared with)', async () => {
    await get('/e/open', 'Bearer good').expect(200, { ok: true });
    expect(server.requestsTo('/introspect')).toHaveLength(1);
  });

  describe('OAUTH2_MISSING_SERVER', () => {
    it('rejects when the oauthResource function returns an unregistered name, with no challenge', async () => {
      const response = await get('/e/unknown-server', 'Bearer good');
      expectError(response, 'OAUTH2_MISSING_SERVER', undefined);
      expect(server.requests).toHaveLength(0);
    });

    it('rejects when the oauthResource function returns undefined, even without a token', async () => {
      expectError(await get('/e/no-server', 'Bearer good'), 'OAUTH2_MISSING_SERVER', undefined);
      expectError(await get('/e/no-server'), 'OAUTH2_MISSING_SERVER', undefined);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('OAUTH2_MISSING_HEADER', () => {
    it.each([
      ['no Authorization header', undefined],
      ['a Basic credential', 'Basic dXNlcjpwYXNz'],
      ['Bearerabc (no delimiter: not a Bearer credential)', 'Bearerabc'],
      ['another scheme that starts like Bearer', 'BearerToken abc'],
    ])('rejects %s', async (_case, authorization) => {
      expectError(await get('/e/open', authorization), 'OAUTH2_MISSING_HEADER', CHALLENGE);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('OAUTH2_MISSING_ACCESS_TOKEN', () => {
    it.each([
      ['Bearer alone', 'Bearer'],
      ['lower-case bearer followed by spaces', 'bearer   '],
      ['BEARER followed by a tab', 'BEARER\t'],
    ])('rejects %s', async (_case, authorization) => {
      expectError(await get('/e/open', authorization), 'OAUTH2_MISSING_ACCESS_TOKEN', CHALLENGE);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('OAUTH2_INVALID_ACCESS_TOKEN', () => {
    const invalid = `${CHALLENGE}, error="invalid_token"`;

    it('rejects a token the server says is not active', async () => {
      server.tokens.set('revoked', { active: false });
      expectError(await get('/e/open', 'Bearer revoked'), 'OAUTH2_INVALID_ACCESS_TOKEN', invalid);
      expect(server.requestsTo('/introspect')).toHaveLength(1);
    });

    it('rejects a token unknown to the server (the default answer is active: false)', async () => {
      expectError(await get('/e/open', 'Bearer never-issued'), 'OAUTH2_INVALID_ACCESS_TOKEN', invalid);
    });

    it('rejects an active token whose exp is in the past', async () => {
      server.tokens.set('expired', { active: true, client_id: 'c1', exp: epochSeconds() - 3600 });
      expectError(await get('/e/open', 'Bearer expired'), 'OAUTH2_INVALID_ACCESS_TOKEN', invalid);
    });

    it('rejects an active token whose nbf is in the future', async () => {
      server.tokens.set('early', {
        active: true,
        client_id: 'c1',
        nbf: epochSeconds() + 3600,
        exp: epochSeconds() + 7200,
      });
      expectError(await get('/e/open', 'Bearer early'), 'OAUTH2_INVALID_ACCESS_TOKEN', invalid);
    });

    it('accepts exp in the future and nbf in the past', async () => {
      server.tokens.set('timely', { active: true, nbf: epochSeconds() - 60, exp: epochSeconds() + 3600 });
      await get('/e/open', 'Bearer timely').expect(200, { ok: true });
    });
  });

  describe('OAUTH2_INVALID_SERVER_RESPONSE', () => {
    it.each<[string, string | Record<string, unknown>]>([
      ['a body that is not JSON', '<html>not json</html>'],
      ['an empty body', ''],
      ['a JSON array', '[]'],
      ['a JSON string', '"x"'],
      ['JSON null', 'null'],
      ['a JSON number', '42'],
      ['an object without active', { client_id: 'c1', scope: 'a b' }],
      ['an object whose active is neither a boolean nor "true"/"false"', { active: 1 }],
      ['an active token whose exp is a string', { active: true, exp: String(epochSeconds() + 3600) }],
      ['an active token whose nbf is a string', { active: true, nbf: 'yesterday' }],
    ])('rejects a 200 with %s', async (_case, body) => {
      special.set('odd', { status: 200, body });
      expectError(await get('/e/open', 'Bearer odd'), 'OAUTH2_INVALID_SERVER_RESPONSE', CHALLENGE);
      expect(server.requestsTo('/introspect')).toHaveLength(1);
    });
  });

  describe('OAUTH2_SERVER_UNAVAILABLE', () => {
    it.each([
      ['500', { status: 500, body: { error: 'server_error' } }],
      ['401 (the API client is refused)', { status: 401, body: { error: 'invalid_client' } }],
      ['503', { status: 503, body: 'down for maintenance' }],
      ['400', { status: 400, body: { error: 'invalid_request' } }],
    ])('rejects when the server answers %s', async (_case, answer) => {
      special.set('error-status', answer);
      expectError(await get('/e/open', 'Bearer error-status'), 'OAUTH2_SERVER_UNAVAILABLE', CHALLENGE);
    });

    it('does not follow a 302 redirect', async () => {
      special.set('moved', { status: 302, headers: { Location: `${url}/followed` }, body: '' });
      expectError(await get('/e/open', 'Bearer moved'), 'OAUTH2_SERVER_UNAVAILABLE', CHALLENGE);
      expect(server.requestsTo('/introspect')).toHaveLength(1);
      expect(server.requestsTo('/followed')).toHaveLength(0);
    });

    it('rejects when the server answers later than the resource timeout (200 ms), without waiting for it', async () => {
      server.script = async (received) => {
        if (received.path !== '/slow') {
          return { status: 200, body: { active: false } };
        }
        await unrefDelay(1500);
        return { status: 200, body: { active: true } };
      };
      const started = Date.now();
      const response = await get('/e/slow', 'Bearer good');
      const elapsed = Date.now() - started;
      expectError(response, 'OAUTH2_SERVER_UNAVAILABLE', CHALLENGE);
      expect(server.requestsTo('/slow')).toHaveLength(1);
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(1200);
    });

    it('rejects when the server is stopped (connection refused), and the stopped server is never reached again', async () => {
      await get('/e/stopped', 'Bearer good').expect(200, { ok: true });
      await stoppedServer.stop();
      expectError(await get('/e/stopped', 'Bearer good'), 'OAUTH2_SERVER_UNAVAILABLE', CHALLENGE);
      expectError(await get('/e/stopped', 'Bearer good'), 'OAUTH2_SERVER_UNAVAILABLE', CHALLENGE);
    });
  });

  describe('OAUTH2_INSUFFICIENT_SCOPE', () => {
    const insufficient = `${CHALLENGE}, error="insufficient_scope", scope="a b"`;

    it('strict mode: rejects a token that lacks one of the required scopes', async () => {
      server.tokens.set('only-a', { active: true, scope: 'a c' });
      expectError(await get('/e/strict', 'Bearer only-a'), 'OAUTH2_INSUFFICIENT_SCOPE', insufficient);
    });

    it('strict mode: rejects a token with no scope at all, and a case mismatch', async () => {
      server.tokens.set('none', { active: true });
      server.tokens.set('upper', { active: true, scope: 'A B' });
      expectError(await get('/e/strict', 'Bearer none'), 'OAUTH2_INSUFFICIENT_SCOPE', insufficient);
      expectError(await get('/e/strict', 'Bearer upper'), 'OAUTH2_INSUFFICIENT_SCOPE', insufficient);
    });

    it('strict mode: accepts every required scope, extra scopes included', async () => {
      server.tokens.set('all', { active: true, scope: 'c b a' });
      await get('/e/strict', 'Bearer all').expect(200, { ok: true });
    });

    it('permissive mode: rejects a token that holds none of the required scopes', async () => {
      server.tokens.set('other', { active: true, scope: 'c d' });
      expectError(await get('/e/permissive', 'Bearer other'), 'OAUTH2_INSUFFICIENT_SCOPE', insufficient);
    });

    it('permissive mode: accepts any one of the required scopes', async () => {
      server.tokens.set('only-b', { active: true, scope: ['b'] });
      await get('/e/permissive', 'Bearer only-b').expect(200, { ok: true });
    });
  });

  describe('after a failure', () => {
    it('serves the next request normally, whatever the failure was', async () => {
      special.set('error-status', { status: 500, body: 'boom' });
      special.set('odd', { status: 200, body: 'not json' });
      server.tokens.set('only-a', { active: true, scope: 'a' });
      const failures: Array<[string, string | undefined, SpecErrorKey]> = [
        ['/e/open', undefined, 'OAUTH2_MISSING_HEADER'],
        ['/e/open', 'Bearer', 'OAUTH2_MISSING_ACCESS_TOKEN'],
        ['/e/no-server', 'Bearer good', 'OAUTH2_MISSING_SERVER'],
        ['/e/open', 'Bearer never-issued', 'OAUTH2_INVALID_ACCESS_TOKEN'],
        ['/e/open', 'Bearer odd', 'OAUTH2_INVALID_SERVER_RESPONSE'],
        ['/e/open', 'Bearer error-status', 'OAUTH2_SERVER_UNAVAILABLE'],
        ['/e/strict', 'Bearer only-a', 'OAUTH2_INSUFFICIENT_SCOPE'],
      ];
      for (const [path, authorization, key] of failures) {
        const failed = await get(path, authorization);
        expect(failed.body.key).toBe(key);
        await get('/e/strict', 'Bearer good').expect(200, { ok: true });
      }
    });

    it('recovers once a slow server answers in time again', async () => {
      let delayMs = 1000;
      server.script = async (received) => {
        if (received.path !== '/slow') {
          return { status: 200, body: { active: false } };
        }
        await unrefDelay(delayMs);
        return { status: 200, body: { active: true } };
      };
      expectError(await get('/e/slow', 'Bearer good'), 'OAUTH2_SERVER_UNAVAILABLE', CHALLENGE);
      delayMs = 0;
      await get('/e/slow', 'Bearer good').expect(200, { ok: true });
    });
  });
});
