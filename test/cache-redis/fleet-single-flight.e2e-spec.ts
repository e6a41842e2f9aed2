import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import { createClient } from '@keyv/redis';
import { hash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { OAuth2Attribute, OAuth2Guard, OAuth2Module, OAuth2Policy, TokenCache } from '../../lib';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { RedisServer, describeWithRedis } from '../support/redis-server';

/**
 * Issue 15, item 4: fleet-wide single flight. Four application instances (Express and Fastify, two
 * each) share one real redis-server and one slow scripted authorization server; a burst with one
 * cold token spread over them causes one introspection in all.
 */

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }

  /** The same, through a cache whose bound no test waits out. */
  @Get('patient')
  @OAuth2Policy({ oauthCacheResource: 'patient' })
  patient(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }

  /** The same, through the cache without single flight. */
  @Get('solo')
  @OAuth2Policy({ oauthCacheResource: 'solo' })
  solo(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }
}

const newToken = () => randomBytes(32).toString('base64url');
/** The introspection's delay: long enough that every request of a burst arrives while it runs. */
const INTROSPECTION_DELAY_MS = 400;
/** The single flight's bound in these tests. */
const WAIT_MS = 1500;
/** A bound far above what the tests take, so that waiting it out cannot pass for the behaviour tested. */
const PATIENT_WAIT_MS = 20_000;

describeWithRedis('fleet-wide single flight over a shared Redis cache', () => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let redis: RedisServer;
  const apps: INestApplication[] = [];
  const loggers: RecordingLogger[] = [];

  const introspectionsOf = (token: string) =>
    server.requestsTo('/introspect').filter((received) => received.form.get('token') === token).length;
  const get = (instance: number, token: string, path = '/data') =>
    request(apps[instance].getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  function activeToken(): string {
    const token = newToken();
    server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });
    return token;
  }
  /** Fires `count` requests at once, spread round-robin over the instances; their statuses and times. */
  async function burst(token: string, count: number, path = '/data') {
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: count }, (_, index) => get(index % apps.length, token, path)),
    );
    return { statuses: responses.map((response) => response.status), elapsedMs: Date.now() - started };
  }

  beforeAll(async () => {
    const [url, started] = await Promise.all([server.start(), RedisServer.start()]);
    redis = started;
    server.script = (_request, token) => ({
      status: 200,
      body: (token === undefined ? undefined : server.tokens.get(token)) ?? { active: false },
      delayMs: INTROSPECTION_DELAY_MS,
    });
    for (const adapter of [...ADAPTERS, ...ADAPTERS]) {
      const logger = new RecordingLogger();
      const module = {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            caches: [
              { name: 'shared', type: 'redis', url: redis.url, singleFlightTimeout: WAIT_MS },
              { name: 'solo', type: 'redis', url: redis.url, singleFlight: false },
              { name: 'patient', type: 'redis', url: redis.url, singleFlightTimeout: PATIENT_WAIT_MS },
            ],
            policy: { oauthResource: 'as', oauthCacheResource: 'shared' },
          }),
        ],
        controllers: [DataController],
      };
      loggers.push(logger);
      apps.push(await startApp(adapter, module, logger));
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await server.stop();
    await redis.stop();
  });
  beforeEach(() => {
    const script = server.script;
    resetServer();
    server.script = script;
  });

  it('a burst of 40 requests with one cold token over four instances: one introspection, every request allowed', async () => {
    const token = activeToken();
    const { statuses } = await burst(token, 40);
    expect(statuses).toEqual(Array(40).fill(200));
    expect(introspectionsOf(token)).toBe(1);
  });

  it('without it (singleFlight: false), each instance introspects once', async () => {
    const token = activeToken();
    const { statuses } = await burst(token, 40, '/data/solo');
    expect(statuses).toEqual(Array(40).fill(200));
    expect(introspectionsOf(token)).toBe(apps.length);
  });

  it('a lock whose holder died delays the others by at most the bound, then they introspect', async () => {
    const token = activeToken();
    // What a holder that died right after taking the lock leaves: the lock, under its digest, for WAIT_MS.
    const key = `oauth2:shared:${hash('sha256', `lock\0${TokenCache.key('as', token)}`, 'base64url')}`;
    const client = createClient({ url: redis.url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.set(key, 'a-dead-instance', { expiration: { type: 'PX', value: WAIT_MS } });
    } finally {
      client.destroy();
    }
    const { statuses, elapsedMs } = await burst(token, 40);
    expect(statuses).toEqual(Array(40).fill(200));
    // Each instance waited (the lock was there), then introspected once itself.
    expect(introspectionsOf(token)).toBe(apps.length);
    expect(elapsedMs).toBeLessThan(WAIT_MS + INTROSPECTION_DELAY_MS + 3000);
  });

  it('an inactive token (not kept without a negative TTL): the others introspect as soon as the holder lets go, not after the bound', async () => {
    const token = newToken();
    const { statuses, elapsedMs } = await burst(token, 40, '/data/patient');
    expect(statuses).toEqual(Array(40).fill(401));
    expect(introspectionsOf(token)).toBeGreaterThanOrEqual(1);
    expect(introspectionsOf(token)).toBeLessThanOrEqual(apps.length);
    // One introspection by the holder, then at most one more per waiting instance: far under the bound.
    expect(elapsedMs).toBeLessThan(PATIENT_WAIT_MS / 2);
  });

  it('Redis holds no token: the lock is a prefixed digest, gone once the answer is in', async () => {
    const token = activeToken();
    await burst(token, 8);
    const rows = await redis.dump();
    for (const { key, value } of rows) {
      expect(key).toMatch(/^oauth2:(shared|solo|patient):[A-Za-z0-9_-]{43}$/);
      expect(key).not.toContain(token.slice(0, 12));
      expect(value).not.toContain(token.slice(0, 12));
    }
    const lock = `oauth2:shared:${hash('sha256', `lock\0${TokenCache.key('as', token)}`, 'base64url')}`;
    expect(rows.map(({ key }) => key)).not.toContain(lock);
    for (const logger of loggers) {
      for (const line of logger.lines) {
        expect(line).not.toContain(token.slice(0, 12));
      }
    }
  });
});
