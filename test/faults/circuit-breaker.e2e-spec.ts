import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2ResourceRegistry } from '../../lib';
import { refusedUrl } from '../support/e2e-kit';
import { reportFigure, timed } from '../support/fault-report';
import { genericResource, startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { BlackHoleServer, CountingServer, type CountingAnswer } from './counting-server';

/**
 * Issue 12, point 6 (circuit breaker): after `failureThreshold` consecutive failures (timeouts,
 * connection errors, 5xx) a resource fails at once with `OAUTH2_SERVER_UNAVAILABLE`, without calling
 * its server, for `coolDownSeconds` (with the remaining cool-down as `Retry-After` in the `rfc`
 * profile); then one probe goes through: success closes the circuit, failure opens it again. Each
 * change of state is logged once.
 */

@Controller('b')
@UseGuards(OAuth2Guard)
class BreakerController {
  @Get()
  open() {
    return { ok: true };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ADAPTERS)('circuit breaker, on %s', (adapter) => {
  const server = new CountingServer();
  const blackHole = new BlackHoleServer();
  const logger = new RecordingLogger();
  let app: INestApplication;
  let answer: CountingAnswer;
  let counter = 0;

  /** A request with a token never seen before (no cache is configured anyway). */
  const call = (resource: string) =>
    request(app.getHttpServer())
      .get(`/b?r=${resource}`)
      .set('Authorization', `Bearer ${adapter}-${resource}-${++counter}`);
  const circuitLines = (resource: string) =>
    logger.lines.filter((line) => line.includes(`circuit of resource '${resource}'`));

  /** Fails requests until the circuit (re)opens: at most 60 of them, 50 ms apart. */
  const untilOpen = async (resource: string) => {
    for (let i = 0; i < 60 && !circuitLines(resource).some((line) => line.includes('is open')); i++) {
      await call(resource);
      await sleep(50);
    }
    expect(circuitLines(resource).some((line) => line.includes('is open'))).toBe(true);
  };

  beforeAll(async () => {
    const url = await server.start();
    const holeUrl = await blackHole.start();
    const refused = await refusedUrl();
    server.answerFor = () => answer;
    app = await startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [
              genericResource('as', url, {
                timeout: 2000,
                circuitBreaker: { failureThreshold: 3, coolDownSeconds: 1 },
              }),
              genericResource('off', url, { timeout: 2000, circuitBreaker: false }),
              genericResource('hole', holeUrl, { timeout: 200 }),
              genericResource('refused', refused, { timeout: 2000, circuitBreaker: { failureThreshold: 2 } }),
            ],
            policy: {
              oauthResource: (context) =>
                String(context.switchToHttp().getRequest<{ query: Record<string, string> }>().query.r),
            },
            errorProfile: 'rfc',
          }),
        ],
        controllers: [BreakerController],
      },
      logger,
    );
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
    await blackHole.stop();
  });

  beforeEach(() => {
    answer = { kind: 'answer', body: { active: true } };
    logger.lines.length = 0;
  });

  it('opens after failureThreshold consecutive 5xx, then fails fast with Retry-After, logged once', async () => {
    answer = { kind: 'answer', status: 500, body: { error: 'boom' } };
    const before = server.requests;
    for (let i = 0; i < 3; i++) {
      const response = await call('as');
      expect(response.status).toBe(503);
      expect(response.body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
    }
    expect(server.requests - before).toBe(3);

    for (let i = 0; i < 5; i++) {
      const response = await call('as');
      expect(response.status).toBe(503);
      expect(response.body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
      expect(response.headers['retry-after']).toBe('1');
    }
    // Failing fast: the server saw none of those five.
    expect(server.requests - before).toBe(3);
    const opened = circuitLines('as');
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatch(/^warn .*is open after 3 consecutive failures/);
    expect(logger.lines.join('\n')).not.toContain(`${adapter}-as-`);
  });

  it('lets one probe through after the cool-down; its success closes the circuit', async () => {
    answer = { kind: 'answer', status: 500 };
    await untilOpen('as');
    logger.lines.length = 0;
    answer = { kind: 'answer', status: 200, body: { active: true }, delayMs: 300 };
    await sleep(1100);
    const before = server.requests;
    // The probe, and a request sent while it is under way: the second fails at once.
    const probe = call('as').then((response) => response);
    await sleep(100);
    const during = await call('as');
    expect(during.status).toBe(503);
    expect(during.headers['retry-after']).toBe('1');
    expect((await probe).status).toBe(200);
    expect(server.requests - before).toBe(1);

    answer = { kind: 'answer', body: { active: true } };
    for (let i = 0; i < 3; i++) {
      expect((await call('as')).status).toBe(200);
    }
    expect(server.requests - before).toBe(4);
    const lines = circuitLines('as');
    expect(lines.filter((line) => line.includes('is half-open'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('is closed'))).toHaveLength(1);
  });

  it('opens again when the probe fails', async () => {
    answer = { kind: 'answer', status: 502 };
    await untilOpen('as');
    logger.lines.length = 0;
    await sleep(1100);
    const before = server.requests;
    expect((await call('as')).status).toBe(503);
    expect(server.requests - before).toBe(1);
    const again = await call('as');
    expect(again.status).toBe(503);
    expect(again.headers['retry-after']).toBe('1');
    expect(server.requests - before).toBe(1);
    const lines = circuitLines('as');
    expect(lines.filter((line) => line.includes('is open after the test request failed'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('is half-open'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('is closed'))).toHaveLength(0);

    // Recovery, for the tests after this one.
    answer = { kind: 'answer', body: { active: true } };
    await sleep(1100);
    expect((await call('as')).status).toBe(200);
  });

  it('counts only consecutive failures: a success in between starts the count again', async () => {
    const before = server.requests;
    for (let round = 0; round < 3; round++) {
      answer = { kind: 'answer', status: 503 };
      await call('as');
      await call('as');
      answer = { kind: 'answer', body: { active: true } };
      expect((await call('as')).status).toBe(200);
    }
    expect(server.requests - before).toBe(9);
    expect(circuitLines('as')).toHaveLength(0);
  });

  it('does not count answers that are not server failures (an inactive token, a 4xx)', async () => {
    const before = server.requests;
    answer = { kind: 'answer', status: 400, body: { error: 'invalid_request' } };
    for (let i = 0; i < 5; i++) {
      await call('as');
    }
    answer = { kind: 'answer', body: { active: false } };
    for (let i = 0; i < 5; i++) {
      expect((await call('as')).status).toBe(401);
    }
    expect(server.requests - before).toBe(10);
    expect(circuitLines('as')).toHaveLength(0);
  });

  it('opens on connection errors too', async () => {
    for (let i = 0; i < 2; i++) {
      expect((await call('refused')).status).toBe(503);
    }
    expect(circuitLines('refused')).toHaveLength(1);
    const { ms } = await timed(() => call('refused'));
    expect(ms).toBeLessThan(500);
  });

  it('is off with circuitBreaker: false', async () => {
    answer = { kind: 'answer', status: 500 };
    const before = server.requests;
    for (let i = 0; i < 15; i++) {
      expect((await call('off')).status).toBe(503);
    }
    expect(server.requests - before).toBe(15);
    expect(circuitLines('off')).toHaveLength(0);
  });

  it('answers at once once open on a black-holed server (200 ms timeout, default threshold of 10)', async () => {
    const registry = app.get(OAuth2ResourceRegistry);
    const timeouts = await Promise.all(Array.from({ length: 10 }, () => timed(() => call('hole'))));
    for (const { value, ms } of timeouts) {
      expect(value.status).toBe(503);
      expect(ms).toBeGreaterThanOrEqual(150);
    }
    expect(circuitLines('hole').filter((line) => line.includes('is open'))).toHaveLength(1);
    const connections = blackHole.connections;

    const overHttp: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { value, ms } = await timed(() => call('hole'));
      expect(value.status).toBe(503);
      expect(value.headers['retry-after']).toMatch(/^(9|10)$/);
      overHttp.push(ms);
      const inProcess = await timed(() =>
        registry
          .get('hole')
          .introspect(`direct-${i}`)
          .then(
            () => 'answered',
            (error: Error) => error.name,
          ),
      );
      expect(inProcess.value).toBe('AuthorizationServerError');
      direct.push(inProcess.ms);
    }
    expect(blackHole.connections).toBe(connections);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    reportFigure({
      test: 'circuit open, black-holed server, 200 ms timeout',
      adapter,
      medianOverHttpMs: median(overHttp),
      maxOverHttpMs: Math.max(...overHttp),
      medianInProcessMs: median(direct),
      maxInProcessMs: Math.max(...direct),
    });
    // Target 10 ms; the bound leaves room for a loaded machine, and is far below the 200 ms timeout.
    expect(median(overHttp)).toBeLessThan(50);
    expect(median(direct)).toBeLessThan(10);
  });
});

describe.each(ADAPTERS)('circuitBreaker at start-up, on %s', (adapter) => {
  it.each([
    [{ failureThreshold: 0 }, 'resources[0].circuitBreaker.failureThreshold', 'must not be less than 1'],
    [{ coolDownSeconds: 0.5 }, 'resources[0].circuitBreaker.coolDownSeconds', 'must be an integer'],
    [{ coolDownSeconds: 86_400 }, 'resources[0].circuitBreaker.coolDownSeconds', 'must not be greater than 3600'],
    [true, 'resources[0].circuitBreaker', 'must be false (no circuit breaker) or an object'],
  ])('refuses %p, naming the field', async (value, field, message) => {
    const error = await startupError(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', 'http://127.0.0.1:9', { circuitBreaker: value as never })],
          policy: { oauthResource: 'as' },
        }),
      ],
    });
    expect(error.message).toContain(`${field} ${message}`);
  });
});
