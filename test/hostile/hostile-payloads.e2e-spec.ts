import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import { OAuth2Attribute, OAuth2Guard, OAuth2Module, OAuth2Policy, RequiredScopes } from '../../lib';
import { epochSeconds } from '../support/e2e-kit';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 5, hostile input from the other side: arbitrary introspection payloads (scope as a number, an
 * object, nested arrays; exp as a string, a float, far future, negative, beyond a double; aud and the
 * other claims of every JSON type), property-based. The guard never answers 500, never lets an
 * inactive or expired token through, and decides as an independent model of behaviour.md §2.6-2.8 says.
 */

const TOLERANCE = 5;
const REQUIRED = 'orders:read';

@Controller('pl')
@UseGuards(OAuth2Guard)
class PayloadController {
  @Get('open')
  open(
    @OAuth2Attribute('oauth.client_id') clientId: unknown,
    @OAuth2Attribute('user') user: unknown,
    @OAuth2Attribute('user.roles') roles: unknown,
  ) {
    return { clientId: clientId ?? null, user: user ?? null, roles };
  }

  @Get('scoped')
  @RequiredScopes(REQUIRED)
  scoped(@OAuth2Attribute('user.roles') roles: unknown) {
    return { roles };
  }

  @Get('cached')
  @OAuth2Policy({ oauthCacheResource: 'local' })
  cached() {
    return { ok: true };
  }
}

/** A claim of any JSON type, favouring the odd ones. */
const anyJson = fc.jsonValue({ maxDepth: 3 });
const now = epochSeconds();
/** `exp` values: numbers far from the tolerance edge (so the model and the guard agree whatever the clock does), and other types. */
const exp = fc.oneof(
  fc.integer({ min: now - 1_000_000_000, max: now - 10 }),
  fc.integer({ min: now - 2, max: now + 1_000_000_000 }),
  fc.double({ min: now + 10, max: 1e300, noNaN: true }),
  fc.double({ min: -1e300, max: now - 10, noNaN: true }),
  fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, 1e308),
  fc.constant('RAW:1e400'),
  fc.constant('RAW:-1e400'),
  anyJson,
  fc.integer({ min: now - 100_000, max: now + 100_000 }).map(String),
);
const nbf = fc.oneof(
  fc.integer({ min: now - 1_000_000_000, max: now + 2 }),
  fc.integer({ min: now + 10, max: now + 1_000_000_000 }),
  anyJson,
);
const scope = fc.oneof(
  fc.constantFrom(
    REQUIRED,
    `a ${REQUIRED} b`,
    `  ${REQUIRED}  `,
    `${REQUIRED},x`,
    'ORDERS:READ',
    '',
    [REQUIRED],
    [[REQUIRED]],
    [1, REQUIRED, null],
    { [REQUIRED]: true },
  ),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.array(anyJson, { maxLength: 4 }),
  anyJson,
);
const active = fc.oneof(fc.constantFrom(true, 'true', false, 'false', 1, 0, 'yes', 'TRUE', null, {}, [true]), anyJson);

/** An introspection payload of optional members, plus arbitrary extra ones (prototype-ish names included). */
const payload = fc
  .record(
    {
      active,
      exp,
      nbf,
      scope,
      scp: scope,
      aud: anyJson,
      client_id: anyJson,
      sub: anyJson,
    },
    { requiredKeys: [] },
  )
  .chain((base) =>
    fc
      .dictionary(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x', 'iat'), anyJson, {
        maxKeys: 3,
      })
      .map((extra) => ({
        ...extra,
        ...base,
      })),
  );
/**
 * A payload an honest server could send for an active token (active, unexpired, valid now), with odd
 * types in the other claims: without it, random payloads would almost never reach the allowed branch.
 */
const plausible = fc
  .record({
    active: fc.constantFrom(true, 'true'),
    exp: fc.option(fc.integer({ min: now + 60, max: now + 1_000_000_000 }), { nil: undefined }),
    nbf: fc.option(fc.integer({ min: now - 1_000_000, max: now - 60 }), { nil: undefined }),
    scope,
    aud: anyJson,
    client_id: anyJson,
    sub: anyJson,
  })
  .map((claims) => Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined)));
/** The body the server answers: plausible, arbitrary, or sometimes any JSON at all. */
const answer = fc.oneof(
  { weight: 4, arbitrary: plausible },
  { weight: 5, arbitrary: payload },
  { weight: 1, arbitrary: anyJson },
);

/** The body text: JSON, with `"RAW:..."` strings replaced by the raw number (JSON.stringify cannot write 1e400). */
function bodyText(value: unknown): string {
  return JSON.stringify(value).replace(/"RAW:([^"]*)"/g, '$1');
}

type Outcome = { allowed: true; scopes: string[] } | { allowed: false; key: string };

/** What the guard must decide for a body, on a route that requires `required` scopes (or none). */
function model(text: string, required: readonly string[]): Outcome {
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { allowed: false, key: 'OAUTH2_INVALID_SERVER_RESPONSE' };
  }
  const claims = parsed as Record<string, unknown>;
  const activeClaim = Object.prototype.hasOwnProperty.call(claims, 'active') ? claims.active : undefined;
  if (activeClaim !== true && activeClaim !== 'true' && activeClaim !== false && activeClaim !== 'false') {
    return { allowed: false, key: 'OAUTH2_INVALID_SERVER_RESPONSE' };
  }
  if (activeClaim === false || activeClaim === 'false') {
    return { allowed: false, key: 'OAUTH2_INVALID_ACCESS_TOKEN' };
  }
  const own = (name: string) => (Object.prototype.hasOwnProperty.call(claims, name) ? claims[name] : undefined);
  const isDate = (value: unknown) => typeof value === 'number' && Number.isFinite(value);
  const expClaim = own('exp');
  const nbfClaim = own('nbf');
  if ((expClaim !== undefined && !isDate(expClaim)) || (nbfClaim !== undefined && !isDate(nbfClaim))) {
    return { allowed: false, key: 'OAUTH2_INVALID_SERVER_RESPONSE' };
  }
  const nowSeconds = Date.now() / 1000;
  if (
    (isDate(expClaim) && (expClaim as number) + TOLERANCE <= nowSeconds) ||
    (isDate(nbfClaim) && (nbfClaim as number) - TOLERANCE > nowSeconds)
  ) {
    return { allowed: false, key: 'OAUTH2_INVALID_ACCESS_TOKEN' };
  }
  const scopeClaim = own('scope') ?? own('scp');
  const scopes =
    typeof scopeClaim === 'string'
      ? scopeClaim.split(' ').filter(Boolean)
      : Array.isArray(scopeClaim)
        ? scopeClaim.filter((entry): entry is string => typeof entry === 'string' && entry.length > 0)
        : [];
  if (!required.every((needed) => scopes.includes(needed))) {
    return { allowed: false, key: 'OAUTH2_INSUFFICIENT_SCOPE' };
  }
  return { allowed: true, scopes };
}

describe.each(ADAPTERS)('hostile introspection payloads, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const logger = new RecordingLogger();
  const bodies = new Map<string, string>();
  let app: INestApplication;
  let counter = 0;

  beforeAll(async () => {
    const url = await server.start();
    server.script = (_received, token) => ({ status: 200, body: (token && bodies.get(token)) ?? '{"active":false}' });
    app = await startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [{ name: 'as', type: 'generic', introspectionEndpoint: `${url}/introspect` }],
            caches: [{ name: 'local', timeToLiveSeconds: 60 }],
            policy: { oauthResource: 'as', clockToleranceSeconds: TOLERANCE },
          }),
        ],
        controllers: [PayloadController],
      },
      logger,
    );
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  /** Serves `text` for a fresh token and asks `path` with it. */
  const ask = async (path: string, text: string) => {
    counter += 1;
    const token = `payload-${counter}`;
    bodies.set(token, text);
    return request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  };

  const check = (response: request.Response, expected: Outcome, text: string) => {
    const context = `body ${text.slice(0, 300)} -> ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`;
    expect({ context, status: response.status < 500 }).toEqual({ context, status: true });
    if (expected.allowed) {
      expect({ context, status: response.status }).toEqual({ context, status: 200 });
    } else {
      expect({ context, key: response.body.key }).toEqual({ context, key: expected.key });
    }
  };

  it('decides every payload as the model does, on a route without and with required scopes', async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(answer, async (value) => {
        const text = bodyText(value);
        const open = await ask('/pl/open', text);
        const openExpected = model(text, []);
        const label = openExpected.allowed ? 'allowed' : openExpected.key;
        outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
        check(open, openExpected, text);
        if (openExpected.allowed) {
          const body = open.body as { clientId: unknown; user: unknown; roles: unknown };
          // Attributes are strings (or absent) and the scopes a list of strings, whatever the claims' types.
          expect(body.clientId === null || (typeof body.clientId === 'string' && body.clientId.length > 0)).toBe(true);
          expect(body.user === null || typeof body.user === 'string').toBe(true);
          expect(body.roles).toEqual(openExpected.scopes);
        }
        check(await ask('/pl/scoped', text), model(text, [REQUIRED]), text);
      }),
      {
        numRuns: 150,
        plugins: [fc.interruptAfterTimeLimit(20_000)],
        // One body per branch runs first, so that a loaded machine's time limit (fewer generated runs) cannot
        // leave a branch untested; the generated bodies reach them too on a machine with time to spare.
        examples: [[{ active: false }], [['not', 'an', 'object']], [{ active: true, client_id: 'example' }]],
      },
    );
    // Every branch was decided, the allowed one included.
    expect([...outcomes.keys()].sort()).toEqual([
      'OAUTH2_INVALID_ACCESS_TOKEN',
      'OAUTH2_INVALID_SERVER_RESPONSE',
      'allowed',
    ]);
  });

  it('keeps checking exp on a cache hit: a cached payload of an expired token never lets it through', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.boolean(), async (secondsAgo, stringActive) => {
        const text = bodyText({
          active: stringActive ? 'true' : true,
          exp: Math.floor(Date.now() / 1000) - TOLERANCE - 5 - secondsAgo,
        });
        counter += 1;
        const token = `cached-${counter}`;
        bodies.set(token, text);
        for (let attempt = 0; attempt < 2; attempt += 1) {
          const response = await request(app.getHttpServer()).get('/pl/cached').set('Authorization', `Bearer ${token}`);
          expect([response.status, response.body.key]).toEqual([401, 'OAUTH2_INVALID_ACCESS_TOKEN']);
        }
      }),
      { numRuns: 30 },
    );
  });

  it.each([
    ['exp beyond a double (1e400)', '{"active":true,"exp":1e400}', 'OAUTH2_INVALID_SERVER_RESPONSE'],
    ['exp a numeric string', `{"active":true,"exp":"${now + 3600}"}`, 'OAUTH2_INVALID_SERVER_RESPONSE'],
    ['a negative exp', '{"active":true,"exp":-1}', 'OAUTH2_INVALID_ACCESS_TOKEN'],
    [
      'a duplicated active member (the last wins, as in JSON.parse)',
      '{"active":true,"active":false}',
      'OAUTH2_INVALID_ACCESS_TOKEN',
    ],
    ['a __proto__ member that says active', '{"__proto__":{"active":true}}', 'OAUTH2_INVALID_SERVER_RESPONSE'],
    ['JSON nested 40 deep', `{"active":true,"x":${'['.repeat(40)}${']'.repeat(40)}}`, 'OAUTH2_INVALID_SERVER_RESPONSE'],
  ])('rejects %s', async (_name, text, key) => {
    const response = await ask('/pl/open', text);
    expect([response.status < 500, response.body.key]).toEqual([true, key]);
  });

  it('accepts a far-future float exp and nested arrays in scope (which hold no scope)', async () => {
    const response = await ask('/pl/open', `{"active":true,"exp":${now + 1e9 + 0.5},"scope":[["${REQUIRED}"],"a"]}`);
    expect([response.status, response.body.roles]).toEqual([200, ['a']]);
  });

  it('logged no error: no payload made the guard fail unexpectedly', () => {
    expect(logger.lines.filter((line) => line.startsWith('error ') || line.startsWith('fatal '))).toEqual([]);
  });
});
