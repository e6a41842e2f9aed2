import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, RequiredScopes } from '../../lib';
import { epochSeconds } from '../support/e2e-kit';
import { reportFigure } from '../support/fault-report';
import { Fault, FaultyAuthorizationServer } from '../support/faulty-authorization-server';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';

/**
 * Issue 5, operational signals: an authorization-server outage is logged once when it starts and once
 * when it ends, with its duration, not once per request; debug lines name the step that rejected a
 * request and a short fingerprint of the token's hash, never the token.
 */

@Controller('o')
@UseGuards(OAuth2Guard)
class OutageController {
  @Get('open')
  open() {
    return { ok: true };
  }

  @Get('scoped')
  @RequiredScopes('needed')
  scoped() {
    return { ok: true };
  }
}

const fingerprint = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 8);

describe.each(ADAPTERS)('outage and debug logging, on %s', (adapter) => {
  const server = new FaultyAuthorizationServer();
  const logger = new RecordingLogger();
  let outage: Fault | undefined;
  const payloads = new Map<string, Record<string, unknown>>();
  let app: INestApplication;

  const get = (path: string, authorization?: string) => {
    const call = request(app.getHttpServer()).get(path);
    return authorization === undefined ? call : call.set('Authorization', authorization);
  };
  const resourceLines = (level: string) =>
    logger.lines.filter(
      (line) => line.startsWith(`${level} `) && line.includes("authorization server of resource 'as'"),
    );

  beforeAll(async () => {
    const url = await server.start();
    server.faultFor = (token) =>
      outage ?? { kind: 'answer', body: (token && payloads.get(token)) ?? { active: false } };
    app = await startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [
              {
                name: 'as',
                type: 'generic',
                introspectionEndpoint: `${url}/introspect`,
                timeout: 300,
                circuitBreaker: false,
              },
            ],
            policy: { oauthResource: 'as' },
          }),
        ],
        controllers: [OutageController],
      },
      logger,
    );
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  beforeEach(() => {
    outage = undefined;
    payloads.clear();
    payloads.set('good', { active: true, scope: 'needed' });
    logger.lines.length = 0;
  });

  it('logs an outage once when it starts and once when it ends, with its duration', async () => {
    await get('/o/open', 'Bearer good').expect(200);
    expect(resourceLines('warn')).toHaveLength(0);

    outage = { kind: 'answer', status: 503, body: 'down' };
    const started = Date.now();
    for (let index = 0; index < 10; index += 1) {
      await get('/o/open', `Bearer sequential-${index}`).expect(403);
    }
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, (_, index) => get('/o/open', `Bearer concurrent-${index}`)),
    );
    expect(concurrent.map((response) => response.status)).toEqual(Array(10).fill(403));
    // A timeout during the same outage is the same outage.
    outage = { kind: 'hang' };
    await get('/o/open', 'Bearer slow').expect(403);

    const warnings = resourceLines('warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("authorization server of resource 'as' answered HTTP 503");
    expect(warnings[0]).toContain('requests are rejected until it answers again');

    await new Promise((resolve) => setTimeout(resolve, 200));
    outage = undefined;
    await get('/o/open', 'Bearer good').expect(200);
    const elapsed = (Date.now() - started) / 1000;
    for (let index = 0; index < 5; index += 1) {
      await get('/o/open', 'Bearer good').expect(200);
    }
    const recoveries = resourceLines('log');
    expect(recoveries).toHaveLength(1);
    const seconds = Number(/after ([\d.]+) s of failures/.exec(recoveries[0])?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(0.4);
    expect(seconds).toBeLessThanOrEqual(elapsed + 0.1);
    expect(resourceLines('warn')).toHaveLength(1);
    reportFigure({
      suite: 'outage-logging',
      adapter,
      failedRequests: 21,
      warnLines: 1,
      recoveryLines: 1,
      loggedOutageSeconds: seconds,
    });

    // The next outage is a new one: one more warning.
    outage = { kind: 'reset-before-answer' };
    await get('/o/open', 'Bearer again-1').expect(403);
    await get('/o/open', 'Bearer again-2').expect(403);
    expect(resourceLines('warn')).toHaveLength(2);
    expect(resourceLines('warn')[1]).toContain('broke off the connection before a complete answer');
  });

  it.each([
    [
      'an inactive token',
      '/o/open',
      'inactive-LOGCANARY-1',
      undefined,
      'OAUTH2_INVALID_ACCESS_TOKEN',
      "introspection by resource 'as'",
    ],
    [
      'an expired token',
      '/o/open',
      'expired-LOGCANARY-2',
      { active: true, exp: epochSeconds() - 600 },
      'OAUTH2_INVALID_ACCESS_TOKEN',
      "the payload's time, audience and issuer claims",
    ],
    [
      'a token without the scope',
      '/o/scoped',
      'unscoped-LOGCANARY-3',
      { active: true, scope: 'other' },
      'OAUTH2_INSUFFICIENT_SCOPE',
      'the scope check',
    ],
  ])(
    'names the step that rejected %s, and a fingerprint of the token, never the token',
    async (_name, path, token, payload, key, step) => {
      if (payload) {
        payloads.set(token, payload);
      }
      await get(path, `Bearer ${token}`);
      const debug = logger.lines.filter((line) => line.startsWith('debug ') && line.includes(`rejected (${key})`));
      expect(debug).toHaveLength(1);
      expect(debug[0]).toContain(`rejected (${key}) at ${step}, token sha256:${fingerprint(token)}`);
      expect(logger.lines.filter((line) => line.includes('LOGCANARY'))).toEqual([]);
    },
  );

  it('names token extraction for a request without a usable header', async () => {
    await get('/o/open', 'Basic abc').expect(401);
    await get('/o/open', 'Bearer').expect(401);
    const debug = logger.lines.filter((line) => line.startsWith('debug '));
    expect(debug.some((line) => line.includes('rejected (OAUTH2_MISSING_HEADER) at token extraction'))).toBe(true);
    expect(debug.some((line) => line.includes('rejected (OAUTH2_MISSING_ACCESS_TOKEN) at token extraction'))).toBe(
      true,
    );
  });
});
