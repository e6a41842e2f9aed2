import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { type OAuth2ErrorProfile, OAuth2Guard, OAuth2Module, OAuth2Policy } from '../../lib';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { type RawResponse, authorizationLine, rawGet } from '../support/raw-http';

/**
 * Issue 12, point 5: a token outside RFC 6750's b64token syntax is refused before any introspection
 * (the authorization server receives nothing), from a header or from the query, whichever way the
 * resource sends tokens (a form field, or a header, where an HTTP client would alter it); in the
 * `rfc` profile, so is a request with more than one credential. On Express and Fastify, in the three
 * error profiles.
 */

const REALM = 'orders';
const TOKEN_HEADER = 'x-introspect-token';
const WELL_FORMED = 'a-Z.0_9~+/c==';

@Controller('m')
@UseGuards(OAuth2Guard)
class MalformedController {
  @Get('header')
  header() {
    return { ok: true };
  }

  @Get('query')
  @OAuth2Policy({ allowAccessTokenQueryParam: true })
  query() {
    return { ok: true };
  }

  /** A resource that sends the token to the authorization server in a header. */
  @Get('query-to-header')
  @OAuth2Policy({ allowAccessTokenQueryParam: true, oauthResource: 'as-header' })
  queryToHeader() {
    return { ok: true };
  }

  @Get('header-to-header')
  @OAuth2Policy({ oauthResource: 'as-header' })
  headerToHeader() {
    return { ok: true };
  }
}

/** How each profile answers a malformed request: status and WWW-Authenticate. */
const MALFORMED: Record<OAuth2ErrorProfile, [number, string]> = {
  documented: [401, `Bearer realm="${REALM}", error="invalid_token"`],
  gateway: [401, `Bearer realm="${REALM}", error="invalid_token"`],
  rfc: [400, `Bearer realm="${REALM}", error="invalid_request"`],
};
const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized' };

/** Authorization values whose token is outside b64token, as the bytes sent. */
const MALFORMED_HEADERS: Array<[string, Buffer]> = [
  ['a space inside', Buffer.from('Bearer a b', 'latin1')],
  ['a comma', Buffer.from('Bearer a,b', 'latin1')],
  ['quotes', Buffer.from('Bearer "x"', 'latin1')],
  ['a semicolon', Buffer.from('Bearer a;b', 'latin1')],
  ['"=" first', Buffer.from('Bearer =abc', 'latin1')],
  ['"=" inside', Buffer.from('Bearer abc=def', 'latin1')],
  ['padding alone', Buffer.from('Bearer ==', 'latin1')],
  ['a latin-1 letter', Buffer.from('Bearer caf\u00e9', 'latin1')],
  ['a no-break space after it', Buffer.from('Bearer abc\u00a0', 'latin1')],
  ['UTF-8 (the euro sign)', Buffer.from('Bearer \u20ac', 'utf8')],
  ['a second scheme after it', Buffer.from('Bearer abc, Basic eA==', 'latin1')],
  ['a tab inside', Buffer.from('Bearer a\tb', 'latin1')],
];

/** access_token query values outside b64token once decoded, as sent in the URL. */
const MALFORMED_QUERIES: Array<[string, string]> = [
  ['an encoded space', 'a%20b'],
  ['a "+" (a space in a query)', 'a+b'],
  ['a comma', 'a%2Cb'],
  ['quotes', '%22x%22'],
  ['a line feed (an HTTP client drops it from a header)', 'ab%0Acd'],
  ['a carriage return', 'ab%0Dcd'],
  ['a NUL', 'ab%00cd'],
  ['the euro sign (an HTTP client sends it as an empty header)', '%E2%82%AC'],
  ['"=" inside', 'abc%3Ddef'],
  ['a malformed escape', 'ab%zz'],
];

describe.each(ADAPTERS)('malformed tokens, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let url: string;

  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    server.script = (received, token) => {
      const presented = token ?? (received.headers[TOKEN_HEADER] as string | undefined);
      return {
        status: 200,
        body: presented === undefined ? { active: false } : (server.tokens.get(presented) ?? { active: false }),
      };
    };
    server.tokens.set('good', { active: true, sub: 'alice' });
    server.tokens.set(WELL_FORMED, { active: true, sub: 'bob' });
  });

  /** The tokens the authorization server received, through the form or through the header. */
  const introspected = () =>
    server.requestsTo('/introspect').map((received) => received.form.get('token') ?? received.headers[TOKEN_HEADER]);

  describe.each(['documented', 'gateway', 'rfc'] as const)('%s profile', (profile) => {
    const logger = new RecordingLogger();
    let app: INestApplication;
    let port: number;

    beforeAll(async () => {
      app = await startApp(
        adapter,
        {
          imports: [
            OAuth2Module.forRoot({
              resources: [
                genericResource('as', url),
                genericResource('as-header', url, {
                  tokenIsSuppliedByHttpHeader: true,
                  tokenIsSuppliedByFormUrlEncoded: false,
                  tokenHeaderName: TOKEN_HEADER,
                }),
              ],
              policy: { oauthResource: 'as' },
              realm: REALM,
              errorProfile: profile,
            }),
          ],
          controllers: [MalformedController],
        },
        logger,
      );
      port = (app.getHttpServer().address() as AddressInfo).port;
    });
    afterAll(async () => {
      await app.close();
    });

    const get = (path: string, ...authorization: Buffer[]) => rawGet(port, path, authorization.map(authorizationLine));

    function expectMalformed(response: RawResponse): void {
      const [status, challenge] = MALFORMED[profile];
      expect({ status: response.status, body: JSON.parse(response.body) as unknown }).toEqual({
        status,
        body: {
          statusCode: status,
          error: REASONS[status],
          message: 'Access token can not be validated by authorization server',
          key: 'OAUTH2_INVALID_ACCESS_TOKEN',
        },
      });
      expect(response.headers['www-authenticate']).toBe(challenge);
      expect(server.requests).toEqual([]);
    }

    it.each(MALFORMED_HEADERS)('refuses a Bearer token with %s, and introspects nothing', async (_name, value) => {
      expectMalformed(await get('/m/header', value));
      expectMalformed(await get('/m/header-to-header', value));
    });

    it.each(MALFORMED_QUERIES)('refuses a query token with %s, and introspects nothing', async (_name, value) => {
      expectMalformed(await get(`/m/query?access_token=${value}`));
      expectMalformed(await get(`/m/query-to-header?access_token=${value}`));
    });

    it('sends every character of a well-formed token to the authorization server, unaltered', async () => {
      for (const path of ['/m/header', '/m/header-to-header']) {
        expect((await get(path, Buffer.from(`Bearer ${WELL_FORMED}`))).status).toBe(200);
      }
      for (const path of ['/m/query', '/m/query-to-header']) {
        expect((await get(`${path}?access_token=${encodeURIComponent(WELL_FORMED)}`)).status).toBe(200);
      }
      expect(introspected()).toEqual([WELL_FORMED, WELL_FORMED, WELL_FORMED, WELL_FORMED]);
    });

    it('never logs a malformed token', async () => {
      const canary = 'canary-7f3a secret';
      expectMalformed(await get('/m/header', Buffer.from(`Bearer ${canary}`)));
      expect(logger.lines.join('\n')).not.toContain('canary-7f3a');
    });

    /** Several credentials: a malformed request in the rfc profile; the first one wins in the others. */
    const several = async (response: RawResponse) => {
      if (profile === 'rfc') {
        expectMalformed(response);
      } else {
        expect(response.status).toBe(200);
        expect(introspected()).toEqual(['good']);
      }
    };

    it('two Bearer values', async () => {
      await several(await get('/m/header', Buffer.from('Bearer good'), Buffer.from('Bearer other')));
    });

    it('a Bearer value and an empty Bearer value', async () => {
      await several(await get('/m/header', Buffer.from('Bearer good'), Buffer.from('bearer')));
    });

    it('a Bearer header and a query token', async () => {
      await several(await get('/m/query?access_token=other', Buffer.from('Bearer good')));
    });

    it('two query tokens', async () => {
      await several(await get('/m/query?access_token=good&access_token=other'));
    });

    it('is one credential: a Bearer value beside a Basic one', async () => {
      const response = await get('/m/header', Buffer.from('Basic eA=='), Buffer.from('Bearer good'));
      expect(response.status).toBe(200);
      expect(introspected()).toEqual(['good']);
    });

    it('is one credential: a Bearer header, and access_token in the query of a route that does not read it', async () => {
      const response = await get('/m/header?access_token=other', Buffer.from('Bearer good'));
      expect(response.status).toBe(200);
      expect(introspected()).toEqual(['good']);
    });
  });
});
