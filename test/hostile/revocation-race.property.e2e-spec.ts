import { Controller, Get, Headers, type INestApplication, UseGuards } from '@nestjs/common';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, type OAuth2ModuleOptions, TokenCacheRegistry } from '../../lib';
import { genericResource, sleep } from '../support/guard-e2e-helpers';
import { ADAPTERS, type AdapterName, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { describeWithRedis, RedisServer } from '../support/redis-server';

/**
 * Issue 12, point 2, property-based: a token revoked and evicted while requests for it come and go.
 * For arbitrary interleavings (how long each introspection takes, when the eviction starts, when each
 * request is sent, whether the token was cached before, and, on a shared Redis, which of two instances
 * serves each request and which evicts), once `evict()` has resolved no request is allowed on an
 * answer obtained before it: no handler runs for the token afterwards, every request sent afterwards
 * is refused, and nothing of the old answer stays in the cache (the next request introspects again).
 * The authorization server revokes the token just as the eviction starts, and answers each
 * introspection with what it knew when the introspection arrived, as a real one does.
 */

/** A clock of events in this process: handler runs and the end of each eviction are ordered on it. */
let sequence = 0;
/** The handler runs, by token. */
const allowed = new Map<string, number[]>();

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read(@Headers('authorization') authorization: string) {
    const token = authorization.slice('Bearer '.length);
    allowed.set(token, [...(allowed.get(token) ?? []), ++sequence]);
    return { ok: true };
  }
}

interface Interleaving {
  /** Requests before the race, awaited: the token is cached then. */
  warm: boolean;
  /** The delay of each introspection answer, in order (0 ms for the ones past the list). */
  answerDelays: number[];
  /** When each request of the race is sent, in ms after the race starts, and on which instance. */
  requests: Array<{ at: number; instance: number }>;
  /** When the eviction starts, in ms after the race starts, and on which instance. */
  evictAt: number;
  evictOn: number;
  /** Requests sent once the eviction resolved: after how many ms, on which instance. */
  after: Array<{ at: number; instance: number }>;
}

/**
 * With `crowded`, the race is packed into the first 40 ms and the token is mostly cold, so that an
 * introspection is often under way on one instance when the other evicts (the tombstone's case).
 */
function interleaving(instances: number, crowded = false): fc.Arbitrary<Interleaving> {
  const instance = fc.integer({ min: 0, max: instances - 1 });
  const moment = fc.integer({ min: 0, max: crowded ? 40 : 80 });
  return fc.record({
    warm: crowded ? fc.constantFrom(false, false, true) : fc.boolean(),
    answerDelays: fc.array(fc.integer({ min: 0, max: 80 }), { maxLength: 6 }),
    requests: fc.array(fc.record({ at: moment, instance }), { minLength: 1, maxLength: 4 }),
    evictAt: moment,
    evictOn: instance,
    after: fc.array(fc.record({ at: fc.integer({ min: 0, max: 40 }), instance }), { minLength: 1, maxLength: 3 }),
  });
}

/**
 * Plays one interleaving against running instances, and checks the property. Every wait is bounded:
 * the longest path is 80 ms + 6 answers of at most 80 ms + 40 ms.
 */
async function race(
  apps: INestApplication[],
  server: ScriptedIntrospectionServer,
  plan: Interleaving,
): Promise<{ token: string }> {
  const token = randomBytes(24).toString('base64url');
  const get = (instance: number) =>
    request(apps[instance].getHttpServer()).get('/data').set('Authorization', `Bearer ${token}`);
  server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });
  const delays = [...plan.answerDelays];
  server.script = (_received, asked) => ({
    status: 200,
    body: (asked === undefined ? undefined : server.tokens.get(asked)) ?? { active: false },
    delayMs: delays.shift() ?? 0,
  });
  if (plan.warm) {
    for (let instance = 0; instance < apps.length; instance++) {
      expect((await get(instance)).status).toBe(200);
    }
  }

  const racing = plan.requests.map(({ at, instance }) => sleep(at).then(() => get(instance)));
  const evicted = sleep(plan.evictAt).then(async () => {
    server.tokens.delete(token); // the authorization server revoked it
    await apps[plan.evictOn].get(TokenCacheRegistry).evict(token);
    // Past the microtasks of a request allowed before the eviction resolved: its handler has run.
    await new Promise((resolve) => setImmediate(resolve));
    return ++sequence;
  });
  const evictedAt = await evicted;
  const after = await Promise.all(plan.after.map(({ at, instance }) => sleep(at).then(() => get(instance))));
  const during = await Promise.all(racing);

  // No request was allowed once the eviction had resolved ...
  expect((allowed.get(token) ?? []).filter((at) => at > evictedAt)).toEqual([]);
  // ... so every request sent afterwards was refused, ...
  for (const response of after) {
    expect([response.status, response.body.key]).toEqual([401, 'OAUTH2_INVALID_ACCESS_TOKEN']);
  }
  for (const response of during) {
    expect([200, 401]).toContain(response.status);
  }
  // ... and no instance kept the old answer: the next request on each asks the server again.
  for (let instance = 0; instance < apps.length; instance++) {
    const before = server.requestsTo('/introspect').length;
    expect((await get(instance)).status).toBe(401);
    expect(server.requestsTo('/introspect').length).toBe(before + 1);
  }
  return { token };
}

function options(url: string, cache: NonNullable<OAuth2ModuleOptions['caches']>[number]): OAuth2ModuleOptions {
  return {
    resources: [genericResource('as', url, { timeout: 2000 })],
    caches: [cache],
    policy: { oauthResource: 'as', oauthCacheResource: cache.name },
  };
}

describe.each(ADAPTERS)('revocation race, property-based (%s, memory cache)', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [OAuth2Module.forRoot(options(url, { name: 'mem', timeToLiveSeconds: 300 }))],
      controllers: [DataController],
    });
  });
  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  it('allows no request on an answer obtained before evict() resolved', async () => {
    await fc.assert(
      fc.asyncProperty(interleaving(1), async (plan) => {
        await race([app], server, plan);
      }),
      { numRuns: 15 },
    );
  }, 60_000);
});

describeWithRedis('revocation race, property-based (Express and Fastify instances sharing Redis)', () => {
  const server = new ScriptedIntrospectionServer();
  let redis: RedisServer;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    const [url, started] = await Promise.all([server.start(), RedisServer.start()]);
    redis = started;
    for (const adapter of ['express', 'fastify'] as AdapterName[]) {
      apps.push(
        await startApp(adapter, {
          imports: [
            OAuth2Module.forRoot(
              options(url, { name: 'shared', type: 'redis', url: redis.url, timeToLiveSeconds: 300 }),
            ),
          ],
          controllers: [DataController],
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await server.stop();
    await redis?.stop();
  });

  it('allows no request on any instance on an answer obtained before evict() resolved, and Redis keeps none', async () => {
    const entryKey = (token: string) =>
      `oauth2:shared:${apps[0].get(TokenCacheRegistry).get('shared').keyOf('as', token)}`;
    await fc.assert(
      fc.asyncProperty(interleaving(2, true), async (plan) => {
        const { token } = await race(apps, server, plan);
        expect((await redis.dump()).some(({ key }) => key === entryKey(token))).toBe(false);
      }),
      { numRuns: 15 },
    );
  }, 60_000);
});
