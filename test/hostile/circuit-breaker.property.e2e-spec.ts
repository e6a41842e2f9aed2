import { Controller, Get, type INestApplication, type Logger, UseGuards } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module } from '../../lib';
import { CircuitBreaker, type CircuitTicket } from '../../lib/resources/circuit-breaker';
import { CountingServer } from '../faults/counting-server';
import { type Fault, FaultyAuthorizationServer } from '../support/faulty-authorization-server';
import { genericResource } from '../support/guard-e2e-helpers';
import { startApp } from '../support/http-adapters';

/**
 * Issue 12, point 6, property-based. The circuit breaker, against an independent model of its rules
 * (docs/security.md): it opens after exactly `failureThreshold` consecutive
 * failures (timeouts, connection errors, 5xx; a 4xx or an inactive token is an answer), a success
 * resets the count, while open it refuses without a request, and after the cool-down exactly one probe
 * goes through. First on the class with a clock of the test's, then over HTTP against a real server.
 * And the connection cap: whatever the burst of distinct cold tokens and the cap (1 to 8), the server
 * never has more connections open at once than the cap.
 */

type Outcome = 'success' | 'inactive' | 'client-error' | 'server-error' | 'timeout' | 'connection-error';
const OUTCOMES: readonly Outcome[] = [
  'success',
  'inactive',
  'client-error',
  'server-error',
  'timeout',
  'connection-error',
];
/** What docs/security.md counts as a failure of the server; everything else is an answer. */
const isFailure = (outcome: Outcome) =>
  outcome === 'server-error' || outcome === 'timeout' || outcome === 'connection-error';

/** A logger that counts the changes of state the breaker announces. */
function countingLogger() {
  const lines: string[] = [];
  const logger = {
    log: (message: string) => lines.push(message),
    warn: (message: string) => lines.push(message),
  } as unknown as Logger;
  return { logger, opened: () => lines.filter((line) => line.includes(' is open after ')).length };
}

/** The model: the rules of docs/security.md, written independently of the class. */
class BreakerModel {
  state: 'closed' | 'open' | 'half-open' = 'closed';
  failures = 0;
  openedAt = 0;
  opens = 0;
  probeOut = false;

  constructor(
    private readonly threshold: number,
    private readonly coolDownMs: number,
  ) {}

  /** 'refused', or whether the admitted request is the probe. */
  admit(now: number): 'refused' | 'request' | 'probe' {
    if (this.state === 'open' && now - this.openedAt >= this.coolDownMs) {
      this.state = 'half-open';
      this.probeOut = false;
    }
    if (this.state === 'open') {
      return 'refused';
    }
    if (this.state === 'half-open') {
      if (this.probeOut) {
        return 'refused';
      }
      this.probeOut = true;
      return 'probe';
    }
    return 'request';
  }

  outcome(now: number, probe: boolean, failed: boolean): void {
    if (probe) {
      if (failed) {
        this.open(now);
      } else {
        this.state = 'closed';
        this.failures = 0;
      }
      return;
    }
    this.failures = failed ? this.failures + 1 : 0;
    if (this.failures === this.threshold) {
      this.open(now);
    }
  }

  private open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.failures = 0;
    this.opens += 1;
  }
}

const settings = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 6 }),
  coolDownSeconds: fc.integer({ min: 1, max: 5 }),
});

/** A request after some time: up to twice the longest cool-down, so that some fall after it. */
const step = fc.record({
  advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10_000 })),
  outcome: fc.constantFrom(...OUTCOMES),
});

describe('CircuitBreaker, property-based, with a clock of the test', () => {
  it('follows the model over any sequence of outcomes and delays', () => {
    fc.assert(
      fc.property(settings, fc.array(step, { maxLength: 60 }), (config, steps) => {
        let now = 1_000_000;
        const { logger, opened } = countingLogger();
        const breaker = new CircuitBreaker(config, 'as', logger, () => now);
        const model = new BreakerModel(config.failureThreshold, config.coolDownSeconds * 1000);
        for (const { advanceMs, outcome } of steps) {
          now += advanceMs;
          const expected = model.admit(now);
          const ticket = breaker.admit();
          if (expected === 'refused') {
            expect(ticket).toEqual({ retryAfterSeconds: expect.any(Number) });
            const left = model.openedAt + config.coolDownSeconds * 1000 - now;
            expect((ticket as { retryAfterSeconds: number }).retryAfterSeconds).toBe(
              model.state === 'open' ? Math.max(1, Math.ceil(left / 1000)) : 1,
            );
            continue;
          }
          expect(ticket).toEqual({ generation: expect.any(Number), probe: expected === 'probe' });
          if (isFailure(outcome)) {
            breaker.failed(ticket as CircuitTicket);
          } else {
            breaker.succeeded(ticket as CircuitTicket);
          }
          model.outcome(now, expected === 'probe', isFailure(outcome));
          // Each opening is announced once, and only openings.
          expect(opened()).toBe(model.opens);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('after the cool-down lets exactly one of many concurrent requests through, and ignores outcomes from before', () => {
    fc.assert(
      fc.property(
        settings,
        fc.integer({ min: 2, max: 12 }),
        fc.boolean(),
        fc.array(fc.boolean(), { maxLength: 5 }),
        (config, concurrent, probeSucceeds, lateOutcomes) => {
          let now = 0;
          const breaker = new CircuitBreaker(config, 'as', countingLogger().logger, () => now);
          // Requests admitted while closed, whose outcomes come late, after the circuit opened.
          const late = lateOutcomes.map(() => breaker.admit() as CircuitTicket);
          for (let i = 0; i < config.failureThreshold; i++) {
            breaker.failed(breaker.admit() as CircuitTicket);
          }
          expect(breaker.admit()).toHaveProperty('retryAfterSeconds');
          now += config.coolDownSeconds * 1000;
          const tickets = Array.from({ length: concurrent }, () => breaker.admit());
          const admitted = tickets.filter((ticket): ticket is CircuitTicket => 'generation' in ticket);
          expect(admitted).toEqual([expect.objectContaining({ probe: true })]);
          expect(tickets.filter((ticket) => 'retryAfterSeconds' in ticket)).toHaveLength(concurrent - 1);
          // A success or failure of a request sent before the circuit opened decides nothing.
          late.forEach((ticket, index) => (lateOutcomes[index] ? breaker.succeeded(ticket) : breaker.failed(ticket)));
          expect(breaker.admit()).toEqual({ retryAfterSeconds: 1 });
          if (probeSucceeds) {
            breaker.succeeded(admitted[0]);
            expect(breaker.admit()).toEqual(expect.objectContaining({ probe: false }));
          } else {
            breaker.failed(admitted[0]);
            expect(breaker.admit()).toEqual({ retryAfterSeconds: config.coolDownSeconds });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

@Controller('b')
@UseGuards(OAuth2Guard)
class BreakerController {
  @Get()
  open() {
    return { ok: true };
  }
}

// Long enough that a loaded 2-core machine does not turn an answer into a timeout.
const TIMEOUT_MS = 250;

function faultOf(outcome: Outcome): Fault {
  switch (outcome) {
    case 'success':
      return { kind: 'answer', body: { active: true } };
    case 'inactive':
      return { kind: 'answer', body: { active: false } };
    case 'client-error':
      return { kind: 'answer', status: 400, body: { error: 'invalid_request' } };
    case 'server-error':
      return { kind: 'answer', status: 503, body: {} };
    case 'timeout':
      return { kind: 'hang' };
    case 'connection-error':
      return { kind: 'reset-before-answer' };
  }
}

describe('circuit breaker over HTTP, property-based (Express)', () => {
  const server = new FaultyAuthorizationServer();
  let url: string;
  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(() => server.stop());

  it('opens after exactly failureThreshold consecutive failures, then refuses without calling the server', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        // At most 2 timeouts a run: each costs the resource's timeout.
        fc
          .array(fc.constantFrom(...OUTCOMES), { minLength: 1, maxLength: 7 })
          .filter((outcomes) => outcomes.filter((outcome) => outcome === 'timeout').length <= 2),
        async (failureThreshold, outcomes) => {
          run += 1;
          const outcomeOf = new Map<string, Outcome>();
          server.faultFor = (token) => faultOf(outcomeOf.get(token ?? '') ?? 'success');
          const app: INestApplication = await startApp('express', {
            imports: [
              OAuth2Module.forRoot({
                resources: [
                  genericResource('as', url, {
                    timeout: TIMEOUT_MS,
                    circuitBreaker: { failureThreshold, coolDownSeconds: 60 },
                  }),
                ],
                policy: { oauthResource: 'as' },
              }),
            ],
            controllers: [BreakerController],
          });
          try {
            let consecutive = 0;
            let open = false;
            const sent = new Set<string>();
            for (const [index, outcome] of [...outcomes, 'success' as const].entries()) {
              const token = `run${run}-${index}`;
              outcomeOf.set(token, outcome);
              const response = await request(app.getHttpServer()).get('/b').set('Authorization', `Bearer ${token}`);
              const reached = server.records.some((record) => record.token === token);
              if (open) {
                expect(reached).toBe(false);
                expect([response.status, response.body.key]).toEqual([403, 'OAUTH2_SERVER_UNAVAILABLE']);
                continue;
              }
              expect(reached).toBe(true);
              sent.add(token);
              const expected =
                outcome === 'success'
                  ? [200, undefined]
                  : outcome === 'inactive'
                    ? [401, 'OAUTH2_INVALID_ACCESS_TOKEN']
                    : [403, 'OAUTH2_SERVER_UNAVAILABLE'];
              expect([response.status, response.body.key]).toEqual(expected);
              consecutive = isFailure(outcome) ? consecutive + 1 : 0;
              open = consecutive === failureThreshold;
            }
          } finally {
            await app.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});

@Controller('c')
@UseGuards(OAuth2Guard)
class CapController {
  @Get()
  open() {
    return { ok: true };
  }
}

describe('connection cap, property-based (Express)', () => {
  const server = new CountingServer();
  let app: INestApplication;
  const CAPS = [1, 2, 3, 4, 5, 6, 7, 8];

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp('express', {
      imports: [
        OAuth2Module.forRoot({
          resources: CAPS.map((cap) =>
            genericResource(`cap${cap}`, url, {
              timeout: 10_000,
              circuitBreaker: false,
              http: { maxConcurrentConnections: cap },
            }),
          ),
          policy: {
            oauthResource: (context) =>
              `cap${context.switchToHttp().getRequest<{ query: Record<string, string> }>().query.cap}`,
          },
        }),
      ],
      controllers: [CapController],
    });
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  it('never has more connections open at the server than the cap, whatever the burst', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CAPS),
        fc.array(fc.integer({ min: 0, max: 25 }), { minLength: 1, maxLength: 30 }),
        async (cap, delays) => {
          run += 1;
          await server.reset();
          const delayOf = new Map(delays.map((delay, index) => [`cap-run${run}-${index}`, delay]));
          server.answerFor = (token) => ({ kind: 'answer', body: { active: true }, delayMs: delayOf.get(token ?? '') });
          const statuses = await Promise.all(
            [...delayOf.keys()].map(
              async (token) =>
                (await request(app.getHttpServer()).get(`/c?cap=${cap}`).set('Authorization', `Bearer ${token}`))
                  .status,
            ),
          );
          expect(statuses.every((status) => status === 200)).toBe(true);
          expect(server.requests).toBe(delays.length);
          expect(server.maxOpenConnections).toBeLessThanOrEqual(cap);
        },
      ),
      { numRuns: 40 },
    );
  });
});
