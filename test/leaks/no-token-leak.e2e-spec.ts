import { Controller, ExecutionContext, Get, INestApplication, UseGuards } from '@nestjs/common';
import request, { Response } from 'supertest';
import { OAuth2Attribute, OAuth2Guard, OAuth2Module, OAuth2Policy, RequiredScopes } from '../../lib';
import { SpecErrorKey, SPEC_ERRORS, epochSeconds, refusedUrl, unrefDelay } from '../support/e2e-kit';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { ScriptedAnswer, ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * behaviour.md §5: nothing that leaves the module (a response body, a response header, a log line)
 * contains the access token, the client secret, or the authorization server's raw answer. Every
 * failure path and a success path are driven with recognisable canaries, and every response and
 * every log line (all levels) is searched for them.
 */

const TOKEN = 'LEAK-CANARY-7f3a9c';
const SECRET = 'SECRET-CANARY-51b2';
const MARKER = 'SERVER-ANSWER-CANARY';

/** What must never be seen outside: the canaries, and the encodings the module itself produces of them. */
const FORBIDDEN = [
  'LEAK-CANARY',
  '7f3a9c',
  'SECRET-CANARY',
  MARKER,
  Buffer.from(`api:${SECRET}`).toString('base64'),
  Buffer.from(`am-client:${SECRET}`).toString('base64'),
  Buffer.from(TOKEN).toString('base64'),
];

/** The canaries found in a text. */
function leaksIn(text: string): string[] {
  return FORBIDDEN.filter((canary) => text.includes(canary));
}

const fromPath = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ params?: Record<string, string> }>().params?.resource;

@Controller('leak')
@UseGuards(OAuth2Guard)
class LeakController {
  @Get('no-server')
  @OAuth2Policy({ oauthResource: () => undefined })
  noServer() {
    return { ok: true };
  }

  @Get('throwing-selector')
  @OAuth2Policy({
    oauthResource: () => {
      throw new Error(`selector failed on ${TOKEN}`);
    },
  })
  throwingSelector() {
    return { ok: true };
  }

  @Get('scoped')
  @RequiredScopes('needed')
  scoped() {
    return { ok: true };
  }

  @Get('cached')
  @OAuth2Policy({ oauthCacheResource: 'local', extractPayload: true })
  cached(@OAuth2Attribute('user') user: string) {
    return { ok: true, user };
  }

  @Get('query/:resource')
  @OAuth2Policy({ oauthResource: fromPath, allowAccessTokenQueryParam: true })
  byQuery(@OAuth2Attribute('user') user: string) {
    return { ok: true, user };
  }

  @Get('via/:resource')
  @OAuth2Policy({ oauthResource: fromPath })
  via(@OAuth2Attribute('user') user: string) {
    return { ok: true, user };
  }
}

/** A scripted answer per token suffix; each bad answer carries the marker, and often the token. */
function answerFor(token: string, baseUrl: string): ScriptedAnswer {
  const suffix = token.slice(TOKEN.length);
  const tagged = { 'X-Upstream-Debug': `${MARKER} ${token}` };
  switch (suffix) {
    case '.active':
      return { status: 200, body: { active: true, sub: 'user-1', scope: 'a' } };
    case '.inactive':
      return { status: 200, body: { active: false, note: MARKER, token } };
    case '.expired':
      return { status: 200, body: { active: true, exp: epochSeconds() - 3600, note: MARKER } };
    case '.nonjson':
      return { status: 200, headers: tagged, body: `<html>${MARKER} ${token}</html>` };
    case '.array':
      return { status: 200, body: `["${MARKER}", "${token}"]` };
    case '.noactive':
      return { status: 200, body: { note: MARKER, token } };
    case '.expstring':
      return { status: 200, body: { active: true, exp: `${MARKER} ${token}` } };
    case '.big':
      return { status: 200, body: { active: true, note: MARKER, token, pad: `${MARKER} `.repeat(400) } };
    case '.500':
      return { status: 500, headers: tagged, body: { error: MARKER, token, stack: `at ${MARKER}` } };
    case '.401':
      return {
        status: 401,
        headers: { 'WWW-Authenticate': `Basic realm="${MARKER}"` },
        body: `${MARKER} bad client ${SECRET}`,
      };
    case '.302':
      return { status: 302, headers: { Location: `${baseUrl}/${MARKER}?token=${token}` }, body: MARKER };
    case '.scope':
      return { status: 200, body: { active: true, scope: 'other', note: MARKER } };
    default:
      return { status: 200, body: { active: false, note: MARKER } };
  }
}

interface LeakCase {
  /** What the case drives. */
  name: string;
  path: string;
  authorization?: string;
  /** The expected error key; `undefined` for a success. */
  key?: SpecErrorKey;
}

const bearer = (suffix: string) => `Bearer ${TOKEN}${suffix}`;

const CASES: LeakCase[] = [
  {
    name: 'OAUTH2_MISSING_SERVER (selector returns undefined)',
    path: '/leak/no-server',
    authorization: bearer('.active'),
    key: 'OAUTH2_MISSING_SERVER',
  },
  {
    name: 'OAUTH2_MISSING_SERVER (selector throws with the token in its message)',
    path: '/leak/throwing-selector',
    authorization: bearer('.active'),
    key: 'OAUTH2_MISSING_SERVER',
  },
  {
    name: 'OAUTH2_MISSING_HEADER (Bearer glued to the token)',
    path: '/leak/via/as',
    authorization: `Bearer${TOKEN}`,
    key: 'OAUTH2_MISSING_HEADER',
  },
  {
    name: 'OAUTH2_MISSING_HEADER (Basic with the secret)',
    path: '/leak/via/as',
    authorization: `Basic ${Buffer.from(`api:${SECRET}`).toString('base64')}`,
    key: 'OAUTH2_MISSING_HEADER',
  },
  {
    name: 'OAUTH2_MISSING_ACCESS_TOKEN (token in a query the route does not accept)',
    path: `/leak/via/as?access_token=${TOKEN}`,
    authorization: 'Bearer',
    key: 'OAUTH2_MISSING_ACCESS_TOKEN',
  },
  {
    name: 'OAUTH2_INVALID_ACCESS_TOKEN (inactive)',
    path: '/leak/via/as',
    authorization: bearer('.inactive'),
    key: 'OAUTH2_INVALID_ACCESS_TOKEN',
  },
  {
    name: 'OAUTH2_INVALID_ACCESS_TOKEN (expired)',
    path: '/leak/via/as',
    authorization: bearer('.expired'),
    key: 'OAUTH2_INVALID_ACCESS_TOKEN',
  },
  {
    name: 'OAUTH2_INVALID_SERVER_RESPONSE (non-JSON body)',
    path: '/leak/via/as',
    authorization: bearer('.nonjson'),
    key: 'OAUTH2_INVALID_SERVER_RESPONSE',
  },
  {
    name: 'OAUTH2_INVALID_SERVER_RESPONSE (JSON array)',
    path: '/leak/via/as',
    authorization: bearer('.array'),
    key: 'OAUTH2_INVALID_SERVER_RESPONSE',
  },
  {
    name: 'OAUTH2_INVALID_SERVER_RESPONSE (no active)',
    path: '/leak/via/as',
    authorization: bearer('.noactive'),
    key: 'OAUTH2_INVALID_SERVER_RESPONSE',
  },
  {
    name: 'OAUTH2_INVALID_SERVER_RESPONSE (exp a string)',
    path: '/leak/via/as',
    authorization: bearer('.expstring'),
    key: 'OAUTH2_INVALID_SERVER_RESPONSE',
  },
  {
    name: 'OAUTH2_INVALID_SERVER_RESPONSE (body beyond maxResponseBytes)',
    path: '/leak/via/as',
    authorization: bearer('.big'),
    key: 'OAUTH2_INVALID_SERVER_RESPONSE',
  },
  {
    name: 'OAUTH2_SERVER_UNAVAILABLE (500 with a body)',
    path: '/leak/via/as',
    authorization: bearer('.500'),
    key: 'OAUTH2_SERVER_UNAVAILABLE',
  },
  {
    name: 'OAUTH2_SERVER_UNAVAILABLE (401 with a body)',
    path: '/leak/via/as',
    authorization: bearer('.401'),
    key: 'OAUTH2_SERVER_UNAVAILABLE',
  },
  {
    name: 'OAUTH2_SERVER_UNAVAILABLE (302 to a URL with the token)',
    path: '/leak/via/as',
    authorization: bearer('.302'),
    key: 'OAUTH2_SERVER_UNAVAILABLE',
  },
  {
    name: 'OAUTH2_SERVER_UNAVAILABLE (timeout)',
    path: '/leak/via/slow',
    authorization: bearer('.active'),
    key: 'OAUTH2_SERVER_UNAVAILABLE',
  },
  {
    name: 'OAUTH2_SERVER_UNAVAILABLE (timeout, token in the introspection URL)',
    path: '/leak/via/slow-query',
    authorization: bearer('.active'),
    key: 'OAUTH2_SERVER_UNAVAILABLE',
  },
  {
    name: 'OAUTH2_SERVER_UNAVAILABLE (unreachable server)',
    path: '/leak/via/down',
    authorization: bearer('.active'),
    key: 'OAUTH2_SERVER_UNAVAILABLE',
  },
  {
    name: 'OAUTH2_SERVER_UNAVAILABLE (unreachable server, token in the introspection URL)',
    path: '/leak/via/down-query',
    authorization: bearer('.active'),
    key: 'OAUTH2_SERVER_UNAVAILABLE',
  },
  {
    name: 'OAUTH2_SERVER_UNAVAILABLE (token in the request URL and in the introspection URL, unreachable server)',
    path: `/leak/query/down-query?access_token=${TOKEN}.active`,
    key: 'OAUTH2_SERVER_UNAVAILABLE',
  },
  {
    name: 'OAUTH2_INSUFFICIENT_SCOPE',
    path: '/leak/scoped',
    authorization: bearer('.scope'),
    key: 'OAUTH2_INSUFFICIENT_SCOPE',
  },
  {
    name: 'Gravitee AM: OAUTH2_INVALID_ACCESS_TOKEN (no active)',
    path: '/leak/via/am',
    authorization: bearer('.noactive'),
    key: 'OAUTH2_INVALID_ACCESS_TOKEN',
  },
  {
    name: 'Gravitee AM: OAUTH2_SERVER_UNAVAILABLE (500 with a body)',
    path: '/leak/via/am',
    authorization: bearer('.500'),
    key: 'OAUTH2_SERVER_UNAVAILABLE',
  },
  { name: 'success', path: '/leak/via/as', authorization: bearer('.active') },
  {
    name: 'success, token in the query, introspected by query',
    path: `/leak/query/as-query?access_token=${TOKEN}.active`,
  },
  { name: 'success, cached (miss then hit)', path: '/leak/cached', authorization: bearer('.active') },
  { name: 'success, from the cache', path: '/leak/cached', authorization: bearer('.active') },
  {
    name: 'success after the outage, on the resource that failed',
    path: '/leak/via/as',
    authorization: bearer('.active'),
  },
];

describe.each(ADAPTERS)('no token, secret or server answer leaks, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const logger = new RecordingLogger();
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    const down = await refusedUrl();
    server.script = async (received, token) => {
      if (received.path === '/slow') {
        await unrefDelay(1000);
        return { status: 200, body: { active: true, note: MARKER } };
      }
      const amToken = received.path === '/am/d/oauth/introspect' ? (received.form.get('token') ?? undefined) : token;
      return answerFor(amToken ?? '', url);
    };
    const secretResource = { type: 'generic' as const, clientId: 'api', clientSecret: SECRET, timeout: 2000 };
    app = await startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [
              { ...secretResource, name: 'as', introspectionEndpoint: `${url}/introspect`, maxResponseBytes: 1024 },
              {
                ...secretResource,
                name: 'as-query',
                introspectionEndpoint: `${url}/introspect`,
                introspectionEndpointMethod: 'GET',
              },
              { ...secretResource, name: 'slow', introspectionEndpoint: `${url}/slow`, timeout: 200 },
              {
                ...secretResource,
                name: 'slow-query',
                introspectionEndpoint: `${url}/slow`,
                introspectionEndpointMethod: 'GET',
                timeout: 200,
              },
              { ...secretResource, name: 'down', introspectionEndpoint: `${down}/introspect` },
              {
                ...secretResource,
                name: 'down-query',
                introspectionEndpoint: `${down}/introspect`,
                introspectionEndpointMethod: 'GET',
              },
              {
                name: 'am',
                type: 'gravitee-am',
                serverURL: `${url}/am`,
                securityDomain: 'd',
                clientId: 'am-client',
                clientSecret: SECRET,
                timeout: 2000,
              },
            ],
            caches: [{ name: 'local', timeToLiveSeconds: 60 }],
            policy: { oauthResource: 'as' },
          }),
        ],
        controllers: [LeakController],
      },
      logger,
    );
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  /** Everything of a response a client or a proxy sees: status line aside, headers and body. */
  function visible(response: Response): string {
    return `${JSON.stringify(response.headers)}\n${response.text ?? ''}`;
  }

  it.each(CASES)('$name: nothing leaks in the response or the logs', async ({ path, authorization, key }) => {
    const linesBefore = logger.lines.length;
    let call = request(app.getHttpServer()).get(path);
    if (authorization !== undefined) {
      call = call.set('Authorization', authorization);
    }
    const response = await call;

    if (key === undefined) {
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ok: true, user: 'user-1' });
    } else {
      expect(response.status).toBe(SPEC_ERRORS[key].status);
      expect(response.body.key).toBe(key);
    }
    expect(leaksIn(visible(response))).toEqual([]);
    expect(logger.lines.slice(linesBefore).filter((line) => leaksIn(line).length > 0)).toEqual([]);
  });

  it('the canaries were really in play: the server received the token and the secret', () => {
    const received = server.requests
      .map((entry) => `${entry.url}\n${JSON.stringify(entry.headers)}\n${entry.body}`)
      .join('\n');
    expect(received).toContain(TOKEN);
    expect(received).toContain(Buffer.from(`api:${SECRET}`).toString('base64'));
  });

  it('the logs are not empty (the outage warning, debug lines too), and no line at any level holds a canary', async () => {
    // Drives one outage here too, so that this test stands on its own.
    await request(app.getHttpServer()).get('/leak/via/down').set('Authorization', bearer('.active')).expect(403);
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(
      logger.lines.some(
        (line) => line.startsWith('warn') && line.includes("resource 'down'") && line.includes('could not be reached'),
      ),
    ).toBe(true);
    expect(logger.lines.some((line) => line.startsWith('debug') && line.includes('OAUTH2_SERVER_UNAVAILABLE'))).toBe(
      true,
    );
    expect(logger.lines.filter((line) => leaksIn(line).length > 0)).toEqual([]);
  });
});
