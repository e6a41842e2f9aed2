import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Policy } from '../../lib';
import { genericResource, nowSeconds, resettable, sleep } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read() {
    return { ok: true };
  }

  @Get('idle-negative')
  @OAuth2Policy({ oauthCacheResource: 'idle-negative' })
  negative() {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('memory cache timeToIdleSeconds on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let app: INestApplication;
  const introspections = () => server.requestsTo('/introspect').length;
  const get = (path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url)],
          caches: [
            { name: 'idle', timeToLiveSeconds: 2, timeToIdleSeconds: 1 },
            { name: 'idle-negative', timeToIdleSeconds: 1, negativeTimeToLiveSeconds: 30 },
          ],
          policy: { oauthResource: 'as', oauthCacheResource: 'idle' },
        }),
      ],
      controllers: [DataController],
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });
  beforeEach(() => resetServer());

  it('an entry read within the idle time stays, one left unread goes', async () => {
    const kept = `kept-${adapter}`;
    const left = `left-${adapter}`;
    server.tokens.set(kept, { active: true, exp: nowSeconds() + 600 });
    server.tokens.set(left, { active: true, exp: nowSeconds() + 600 });
    await get('/data', kept).expect(200);
    await get('/data', left).expect(200);
    expect(introspections()).toBe(2);
    // `kept` is read every 400 ms, `left` not at all, for 1.2 s.
    for (let round = 0; round < 3; round += 1) {
      await sleep(400);
      await get('/data', kept).expect(200);
    }
    expect(introspections()).toBe(2);
    await get('/data', left).expect(200);
    expect(introspections()).toBe(3);
  });

  it('reading does not keep an entry past its TTL', async () => {
    const token = `ttl-${adapter}`;
    server.tokens.set(token, { active: true });
    await get('/data', token).expect(200);
    // Read every 300 ms (well within the 1 s idle time) for 2.4 s: the 2 s TTL still ends it.
    const deadline = Date.now() + 2400;
    while (Date.now() < deadline) {
      await sleep(300);
      await get('/data', token).expect(200);
    }
    expect(introspections()).toBe(2);
  });

  it('applies to remembered refusals too', async () => {
    const token = `inactive-${adapter}`;
    server.tokens.set(token, { active: false });
    await get('/data/idle-negative', token).expect(401);
    await get('/data/idle-negative', token).expect(401);
    expect(introspections()).toBe(1);
    await sleep(1100);
    await get('/data/idle-negative', token).expect(401);
    expect(introspections()).toBe(2);
  });
});
