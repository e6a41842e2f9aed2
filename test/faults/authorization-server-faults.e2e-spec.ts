import { Controller, ExecutionContext, Get, INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { gzipSync } from 'node:zlib';
import { OAuth2Guard, OAuth2Module, OAuth2Policy } from '../../lib';
import { SpecErrorKey, refusedUrl, specErrorBody } from '../support/e2e-kit';
import { peakMemoryDuring, reportFigure, timed } from '../support/fault-report';
import { Fault, FaultyAuthorizationServer, SilentTcpServer } from '../support/faulty-authorization-server';
import { ADAPTERS, startApp } from '../support/http-adapters';

/**
 * Issue 5, faults: a real loopback authorization server misbehaves on command (late, silent, reset,
 * huge, truncated, not an object, odd `active`, redirects, error statuses). Each request gets the right
 * key, in bounded time and memory, and the next request, with a good token, goes through.
 */

const TIMEOUT_MS = 400;
/** Upper bound of a failure that needs no waiting: everything is on loopback. */
const PROMPT_MS = 1500;
/** Upper bound of a failure that waits for the timeout: the timeout plus scheduling slack. */
const TIMED_OUT_MS = TIMEOUT_MS + 1500;
const DOMAIN = 'dom';
const HUGE_BYTES = 16 * 1024 * 1024;

const fromPath = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ params?: Record<string, string> }>().params?.resource;

@Controller('f')
@UseGuards(OAuth2Guard)
class FaultController {
  @Get(':resource')
  @OAuth2Policy({ oauthResource: fromPath })
  ok() {
    return { ok: true };
  }
}

/** A status answer that must not be followed or trusted. */
const status = (code: number, headers: Record<string, string> = {}, body: unknown = { active: true }): Fault => ({
  kind: 'answer',
  status: code,
  headers,
  body,
});
const ok = (body: unknown): Fault => ({ kind: 'answer', status: 200, body });

interface FaultCase {
  name: string;
  fault: Fault;
  /** The expected key; `undefined`: the request goes through. */
  key: SpecErrorKey | undefined;
  /** Whether the failure waits for the resource's timeout. */
  waitsForTimeout?: boolean;
}

/** Faults of the generic resource at `/introspect`, chosen by token. */
function faultCases(baseUrl: string, gzipBomb: Buffer): FaultCase[] {
  const redirectTo = { Location: `${baseUrl}/followed` };
  return [
    {
      name: 'answers after the timeout',
      fault: { kind: 'late', delayMs: TIMEOUT_MS * 3, body: { active: true } },
      key: 'OAUTH2_SERVER_UNAVAILABLE',
      waitsForTimeout: true,
    },
    {
      name: 'reads the request and never answers',
      fault: { kind: 'hang' },
      key: 'OAUTH2_SERVER_UNAVAILABLE',
      waitsForTimeout: true,
    },
    {
      name: 'drips its answer a byte at a time, slower than the timeout',
      fault: { kind: 'drip', intervalMs: 50, maxBytes: 200 },
      key: 'OAUTH2_SERVER_UNAVAILABLE',
      waitsForTimeout: true,
    },
    {
      name: 'resets the connection mid-answer',
      fault: { kind: 'reset-mid-answer', prefix: '{"active":true,"sc' },
      key: 'OAUTH2_SERVER_UNAVAILABLE',
    },
    {
      name: 'resets the connection before answering',
      fault: { kind: 'reset-before-answer' },
      key: 'OAUTH2_SERVER_UNAVAILABLE',
    },
    {
      name: `answers 200 with ${HUGE_BYTES / 1048576} MiB, Content-Length declared`,
      fault: { kind: 'stream', totalBytes: HUGE_BYTES, declareLength: true },
      key: 'OAUTH2_INVALID_SERVER_RESPONSE',
    },
    {
      name: `answers 200 with ${HUGE_BYTES / 1048576} MiB, chunked`,
      fault: { kind: 'stream', totalBytes: HUGE_BYTES, declareLength: false },
      key: 'OAUTH2_INVALID_SERVER_RESPONSE',
    },
    {
      name: `answers a gzip bomb (${gzipBomb.length} bytes that inflate to ${HUGE_BYTES / 1048576} MiB)`,
      fault: { kind: 'gzip', compressed: gzipBomb },
      key: 'OAUTH2_INVALID_SERVER_RESPONSE',
    },
    {
      name: 'answers 200 with truncated JSON',
      fault: ok('{"active":true,"scope":"a b'),
      key: 'OAUTH2_INVALID_SERVER_RESPONSE',
    },
    { name: 'answers 200 with an empty body', fault: ok(''), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers 200 with HTML', fault: ok('<html>maintenance</html>'), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers 200 with the JSON []', fault: ok('[]'), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    {
      name: 'answers 200 with the JSON [{"active":true}]',
      fault: ok('[{"active":true}]'),
      key: 'OAUTH2_INVALID_SERVER_RESPONSE',
    },
    { name: 'answers 200 with the JSON "x"', fault: ok('"x"'), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers 200 with the JSON 1', fault: ok('1'), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers 200 with the JSON null', fault: ok('null'), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers 200 with the JSON true', fault: ok('true'), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    {
      name: 'answers 200 with JSON nested 100000 deep',
      fault: ok(`{"active":true,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
      key: 'OAUTH2_INVALID_SERVER_RESPONSE',
    },
    {
      name: 'answers active: "true" (a string RFC 7662 servers are known to send)',
      fault: ok({ active: 'true' }),
      key: undefined,
    },
    { name: 'answers active: "false"', fault: ok({ active: 'false' }), key: 'OAUTH2_INVALID_ACCESS_TOKEN' },
    { name: 'answers active: 1', fault: ok({ active: 1 }), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers active: 0', fault: ok({ active: 0 }), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers active: "yes"', fault: ok({ active: 'yes' }), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers active: "TRUE"', fault: ok({ active: 'TRUE' }), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers active: null', fault: ok({ active: null }), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers active: {}', fault: ok({ active: {} }), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    { name: 'answers without active', fault: ok({ scope: 'a' }), key: 'OAUTH2_INVALID_SERVER_RESPONSE' },
    ...[301, 302, 303, 307, 308].map((code) => ({
      name: `answers ${code} to an endpoint that would say active (not followed)`,
      fault: status(code, redirectTo),
      key: 'OAUTH2_SERVER_UNAVAILABLE' as const,
    })),
    {
      name: 'answers 401 (client credentials refused)',
      fault: status(401, { 'WWW-Authenticate': 'Basic realm="as"' }, { error: 'invalid_client' }),
      key: 'OAUTH2_SERVER_UNAVAILABLE',
    },
    { name: 'answers 403', fault: status(403, {}, { error: 'forbidden' }), key: 'OAUTH2_SERVER_UNAVAILABLE' },
    {
      name: 'answers 429 with Retry-After',
      fault: status(429, { 'Retry-After': '30' }, { error: 'slow_down' }),
      key: 'OAUTH2_SERVER_UNAVAILABLE',
    },
    { name: 'answers 500', fault: status(500, {}, 'Internal Server Error'), key: 'OAUTH2_SERVER_UNAVAILABLE' },
    { name: 'answers 502', fault: status(502, {}, '<html>bad gateway</html>'), key: 'OAUTH2_SERVER_UNAVAILABLE' },
    {
      name: 'answers 503 with Retry-After',
      fault: status(503, { 'Retry-After': '120' }, { error: 'temporarily_unavailable' }),
      key: 'OAUTH2_SERVER_UNAVAILABLE',
    },
    {
      name: 'answers 204 without a body',
      fault: { kind: 'answer', status: 204, body: '' },
      key: 'OAUTH2_SERVER_UNAVAILABLE',
    },
    {
      name: 'answers 200 active, 100 ms late: within the timeout',
      fault: { kind: 'late', delayMs: 100, body: { active: true } },
      key: undefined,
    },
  ];
}

describe.each(ADAPTERS)('authorization-server faults, on %s', (adapter) => {
  const server = new FaultyAuthorizationServer();
  const silent = new SilentTcpServer();
  const faults = new Map<string, Fault>();
  let app: INestApplication;
  let cases: FaultCase[];

  const get = (resource: string, token: string) =>
    request(app.getHttpServer()).get(`/f/${resource}`).set('Authorization', `Bearer ${token}`);

  /** The good token goes through: the resource recovered from whatever came before. */
  const expectNextRequestWorks = async (resource = 'as') => {
    await get(resource, 'good').expect(200, { ok: true });
  };

  const expectKey = (response: request.Response, key: SpecErrorKey | undefined) => {
    if (key === undefined) {
      expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: { ok: true } });
    } else {
      expect({ status: response.status, body: response.body }).toEqual({
        status: specErrorBody(key).statusCode,
        body: specErrorBody(key),
      });
    }
  };

  beforeAll(async () => {
    const url = await server.start();
    const silentUrl = await silent.start();
    const refused = await refusedUrl();
    cases = faultCases(url, gzipSync(Buffer.alloc(HUGE_BYTES)));
    server.faultFor = (token, path) => {
      if (path === '/followed') {
        return ok({ active: true });
      }
      return (token === undefined ? undefined : faults.get(token)) ?? ok({ active: true });
    };
    const generic = (name: string, base: string) => ({
      name,
      type: 'generic' as const,
      introspectionEndpoint: `${base}/introspect`,
      clientId: 'api',
      clientSecret: 'secret',
      timeout: TIMEOUT_MS,
    });
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            generic('as', url),
            generic('silent', silentUrl),
            generic('refused', refused),
            {
              name: 'am',
              type: 'gravitee-am',
              serverURL: url,
              securityDomain: DOMAIN,
              clientId: 'api',
              clientSecret: 'secret',
              timeout: TIMEOUT_MS,
            },
          ],
        }),
      ],
      controllers: [FaultController],
    });
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
    await silent.stop();
  });

  beforeEach(() => {
    faults.clear();
    server.records.length = 0;
  });

  it('lets a good token through (the baseline)', async () => {
    await expectNextRequestWorks();
  });

  it('meets every fault of the generic resource with the right key, in bounded time, and recovers', async () => {
    const seen: string[] = [];
    for (const [index, testCase] of cases.entries()) {
      const token = `fault-${index}`;
      faults.set(token, testCase.fault);
      const { value: response, ms } = await timed(async () => get('as', token));
      seen.push(`${testCase.name}: ${response.status} ${response.body?.key ?? 'ok'} in ${ms.toFixed(0)} ms`);
      try {
        expectKey(response, testCase.key);
        expect(ms).toBeLessThan(testCase.waitsForTimeout ? TIMED_OUT_MS : PROMPT_MS);
        if (testCase.waitsForTimeout) {
          expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
        }
        await expectNextRequestWorks();
      } catch (error) {
        throw new Error(`case "${testCase.name}" failed: ${(error as Error).message}\nso far:\n${seen.join('\n')}`, {
          cause: error,
        });
      }
      reportFigure({
        suite: 'faults',
        adapter,
        fault: testCase.name,
        status: response.status,
        key: response.body?.key ?? null,
        ms: Math.round(ms),
      });
    }
  });

  it('does not follow a redirect: nothing reaches the Location', async () => {
    faults.set('redirected', status(302, { Location: `${server.url}/followed` }));
    expectKey(await get('as', 'redirected'), 'OAUTH2_SERVER_UNAVAILABLE');
    expect(server.recordsTo('/followed')).toHaveLength(0);
  });

  it('stops reading a huge answer early, in bounded memory', async () => {
    faults.set('huge', { kind: 'stream', totalBytes: HUGE_BYTES, declareLength: false });
    const { value: response, arrayBuffersMiB, heapMiB } = await peakMemoryDuring(async () => get('as', 'huge'));
    expectKey(response, 'OAUTH2_INVALID_SERVER_RESPONSE');
    const sent = server.recordsTo('/introspect')[0].bodyBytesSent;
    reportFigure({
      suite: 'faults',
      adapter,
      fault: 'huge answer memory',
      bodyMiB: HUGE_BYTES / 1048576,
      serverSentMiB: +(sent / 1048576).toFixed(2),
      arrayBuffersMiB,
      heapMiB,
    });
    // The client hung up long before the end (what the server sent includes the kernel's socket buffers)...
    expect(sent).toBeLessThan(HUGE_BYTES / 2);
    // ...and never held the answer: 256 KiB accepted, plus chunks in flight.
    expect(arrayBuffersMiB).toBeLessThan(8);
    await expectNextRequestWorks();
  });

  it('times out a TCP server that accepts and never says a word, and closes the connection', async () => {
    const { value: response, ms } = await timed(async () => get('silent', 'good'));
    expectKey(response, 'OAUTH2_SERVER_UNAVAILABLE');
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(ms).toBeLessThan(TIMED_OUT_MS);
    reportFigure({ suite: 'faults', adapter, fault: 'silent TCP server', ms: Math.round(ms) });
    await waitFor(() => silent.openConnections === 0);
    expect(silent.openConnections).toBe(0);
  });

  it('fails at once when the connection is refused', async () => {
    const { value: response, ms } = await timed(async () => get('refused', 'good'));
    expectKey(response, 'OAUTH2_SERVER_UNAVAILABLE');
    expect(ms).toBeLessThan(PROMPT_MS);
    reportFigure({ suite: 'faults', adapter, fault: 'connection refused', ms: Math.round(ms) });
  });

  it('bounds 20 concurrent requests to a server that never answers, and leaves no connection open', async () => {
    faults.set('hang', { kind: 'hang' });
    const { value: responses, ms } = await timed(async () =>
      Promise.all(Array.from({ length: 20 }, () => get('as', 'hang'))),
    );
    for (const response of responses) {
      expectKey(response, 'OAUTH2_SERVER_UNAVAILABLE');
    }
    expect(ms).toBeLessThan(TIMED_OUT_MS);
    reportFigure({
      suite: 'faults',
      adapter,
      fault: '20 concurrent requests, server never answers',
      ms: Math.round(ms),
    });
    // Concurrent requests with one token share one introspection; whatever was opened is closed again.
    await waitFor(() => server.openConnections <= 1);
    await expectNextRequestWorks();
  });

  describe('Gravitee AM (V3_X): active is read, a missing or odd one is inactive', () => {
    it.each<[string, Fault, SpecErrorKey | undefined]>([
      ['active: "true"', ok({ active: 'true' }), undefined],
      ['active: 1', ok({ active: 1 }), 'OAUTH2_INVALID_ACCESS_TOKEN'],
      ['active: "yes"', ok({ active: 'yes' }), 'OAUTH2_INVALID_ACCESS_TOKEN'],
      ['active: null', ok({ active: null }), 'OAUTH2_INVALID_ACCESS_TOKEN'],
      ['the JSON []', ok('[]'), 'OAUTH2_INVALID_SERVER_RESPONSE'],
      ['truncated JSON', ok('{"active":tr'), 'OAUTH2_INVALID_SERVER_RESPONSE'],
      ['503', status(503, { 'Retry-After': '5' }), 'OAUTH2_SERVER_UNAVAILABLE'],
      ['a reset mid-answer', { kind: 'reset-mid-answer', prefix: '{"act' }, 'OAUTH2_SERVER_UNAVAILABLE'],
    ])('%s', async (_name, fault, key) => {
      // A b64token (RFC 6750) named after the case: the guard refuses any other before introspection.
      const token = `am-${Buffer.from(_name).toString('base64url')}`;
      faults.set(token, fault);
      expectKey(await get('am', token), key);
      expect(server.recordsTo(`/${DOMAIN}/oauth/introspect`)).toHaveLength(1);
      await expectNextRequestWorks('am');
    });
  });
});

/** Polls a condition every 10 ms, for at most 2 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
