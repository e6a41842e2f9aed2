import { Body, Controller, Get, HttpCode, INestApplication, Post, UseGuards } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, TokenCacheRegistry } from '../../lib';
import { genericResource, resettable, sleep } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 12, point 2: a token revoked (and evicted) while its introspection is under way. The server
 * holds its answers (the one it had when each request came in) until the test lets them go, after the
 * token was revoked and evicted: the order is made, not timed, so a busy machine cannot break it.
 * Neither the request that started the look-up, nor one sent after the eviction, may be allowed on that
 * answer, and it is not cached.
 */

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read() {
    return { ok: true };
  }
}

@Controller('revoke')
class RevokeController {
  constructor(private readonly caches: TokenCacheRegistry) {}

  @Post()
  @HttpCode(204)
  async revoke(@Body() body: { token: string }): Promise<void> {
    await this.caches.evict(body.token);
  }
}

/** The longest the server holds an answer the test forgot to let go. */
const HOLD_LIMIT_MS = 5000;

describe.each(ADAPTERS)('a token revoked while its introspection is under way (%s, memory cache)', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let app: INestApplication;

  const introspections = () => server.requestsTo('/introspect').length;
  const get = (token: string) => request(app.getHttpServer()).get('/data').set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url)],
          caches: [{ name: 'mem', timeToLiveSeconds: 300 }],
          policy: { oauthResource: 'as', oauthCacheResource: 'mem' },
        }),
      ],
      controllers: [DataController, RevokeController],
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });
  /** Lets the answers the server holds go (and every later one at once). */
  let release: () => void = () => undefined;
  beforeEach(() => {
    resetServer();
    const answer = server.script;
    const released = new Promise<void>((resolve) => {
      release = resolve;
      setTimeout(resolve, HOLD_LIMIT_MS).unref();
    });
    server.script = async (received, token) => {
      const held = await answer(received, token);
      await released;
      return held;
    };
  });
  afterEach(() => release());

  async function untilIntrospected(count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (introspections() < count) {
      if (Date.now() > deadline) {
        throw new Error(`the server was not asked ${count} time(s)`);
      }
      await sleep(5);
    }
  }

  it('a request sent after evict() resolved is not allowed on the answer under way, nor is the first', async () => {
    const token = randomBytes(32).toString('base64url');
    server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });

    let firstAnswered = false;
    const first = get(token).then((response) => {
      firstAnswered = true;
      return response;
    });
    await untilIntrospected(1);
    server.tokens.delete(token); // the authorization server revoked it
    await request(app.getHttpServer()).post('/revoke').send({ token }).expect(204);
    // The premise: the eviction was over before the first answer came back.
    expect(firstAnswered).toBe(false);

    const pending = get(token);
    release();
    const after = await pending;

    expect(after.status).toBe(401);
    expect(after.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    // The first request's look-up threw its answer away too, and introspected again.
    expect((await first).status).toBe(401);

    const key = app.get(TokenCacheRegistry).get('mem').keyOf('as', token);
    expect(app.get(TokenCacheRegistry).get('mem').peek(key)).toBeUndefined();
    const before = introspections();
    expect((await get(token)).status).toBe(401);
    expect(introspections()).toBe(before + 1);
  });

  it('an eviction of another token does not stop a look-up from joining, nor its answer from being cached', async () => {
    const token = randomBytes(32).toString('base64url');
    server.tokens.set(token, { active: true, client_id: 'c1', scope: 'read' });

    const first = get(token).then((response) => response);
    await untilIntrospected(1);
    await request(app.getHttpServer()).post('/revoke').send({ token: 'another-token' }).expect(204);
    const second = get(token).then((response) => response);
    // The second request must have joined the look-up under way before the answer is let go.
    await sleep(50);
    release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(introspections()).toBe(1);
    await get(token).expect(200);
    expect(introspections()).toBe(1);
  });
});
