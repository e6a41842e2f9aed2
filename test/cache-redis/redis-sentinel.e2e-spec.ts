import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { OAuth2Attribute, OAuth2Guard, OAuth2Module } from '../../lib';
import { genericResource, resettable, sleep } from '../support/guard-e2e-helpers';
import { type AdapterName, RecordingLogger, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { describeWithRedis } from '../support/redis-server';
import { RedisSentinelSet, command, eventually } from '../support/redis-topology';

/**
 * Issue 15, item 5: a `redis` cache on a primary managed by Redis Sentinel (real redis-server
 * processes: a primary, a replica, a Sentinel, all with passwords), shared by an Express and a
 * Fastify application, through a failover in the middle of a run of requests.
 */

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }
}

const newToken = () => randomBytes(32).toString('base64url');
const NODE_PASSWORD = 'node-password-1f0c';
const SENTINEL_PASSWORD = 'sentinel-password-9b2e';

describeWithRedis('a redis cache on a Sentinel-managed primary', () => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let set: RedisSentinelSet;
  const instances: Array<{ adapter: AdapterName; app: INestApplication; logger: RecordingLogger }> = [];

  const introspections = () => server.requestsTo('/introspect').length;
  const get = (instance: number, token: string) =>
    request(instances[instance].app.getHttpServer()).get('/data').set('Authorization', `Bearer ${token}`);
  function activeToken(): string {
    const token = newToken();
    server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });
    return token;
  }
  const keysOn = async (port: number) => Number(await command(port, ['DBSIZE'], NODE_PASSWORD));

  beforeAll(async () => {
    const [url, started] = await Promise.all([
      server.start(),
      RedisSentinelSet.start(NODE_PASSWORD, SENTINEL_PASSWORD),
    ]);
    set = started;
    for (const adapter of ['express', 'fastify'] as const) {
      const logger = new RecordingLogger();
      const module = {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            caches: [
              {
                name: 'ha',
                type: 'redis',
                password: NODE_PASSWORD,
                sentinel: { masterId: set.masterId, nodes: set.sentinelAddresses, password: SENTINEL_PASSWORD },
              },
            ],
            policy: { oauthResource: 'as', oauthCacheResource: 'ha' },
          }),
        ],
        controllers: [DataController],
      };
      instances.push({ adapter, app: await startApp(adapter, module, logger), logger });
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(instances.map(({ app }) => app.close()));
    await server.stop();
    await set?.stop();
  });
  beforeEach(() => resetServer());

  it('entries go to the primary the Sentinel names, and serve both applications', async () => {
    const token = activeToken();
    await get(0, token).expect(200, { clientId: 'c1' });
    await get(1, token).expect(200, { clientId: 'c1' });
    await get(0, token).expect(200, { clientId: 'c1' });
    expect(introspections()).toBe(1);
    expect(await set.primaryPort()).toBe(set.primary.port);
    expect(await keysOn(set.primary.port)).toBeGreaterThan(0);
  });

  it('a failover in the middle of a run fails no request; afterwards entries are written to the new primary and shared', async () => {
    const tokens = Array.from({ length: 8 }, activeToken);
    const statuses: number[] = [];
    let stop = false;
    // A steady run of requests on both applications, through the failover, bounded in count.
    const run = (async () => {
      for (let round = 0; round < 2000 && !stop; round++) {
        const response = await get(round % 2, tokens[round % tokens.length]);
        statuses.push(response.status);
        await sleep(5);
      }
    })();
    await eventually('some requests before the failover', async () => statuses.length >= 20);
    await set.killPrimaryAndAwaitFailover();
    const atFailover = statuses.length;
    await eventually('some requests after the failover', async () => statuses.length >= atFailover + 40);
    stop = true;
    await run;
    expect(statuses.length).toBeGreaterThan(60);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);

    // After it: a token cached by one application on the new primary is a hit for the other.
    await eventually(
      'the applications write to the new primary',
      async () => {
        const token = activeToken();
        const before = introspections();
        await get(0, token).expect(200);
        await get(1, token).expect(200);
        return introspections() === before + 1;
      },
      20_000,
    );
    expect(await keysOn(set.replica.port)).toBeGreaterThan(0);
    for (const { logger } of instances) {
      for (const line of logger.lines) {
        expect(line).not.toContain(NODE_PASSWORD);
        expect(line).not.toContain(SENTINEL_PASSWORD);
        for (const token of tokens) {
          expect(line).not.toContain(token.slice(0, 12));
        }
      }
    }
  }, 60_000);
});
