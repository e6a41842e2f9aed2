import { Controller, Get, type INestApplication, Injectable, UseGuards } from '@nestjs/common';
import request from 'supertest';
import {
  type IntrospectionPayload,
  type OAuth2RequestState,
  type OAuth2Resource,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Policy,
  RequiredScopes,
  type TokenCache,
} from '../../lib';
import { FaultyAuthorizationServer } from '../support/faulty-authorization-server';
import { genericResource, nowSeconds } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { OpenTelemetrySdk } from './otel-sdk';

/**
 * Issue 15, item 2: telemetry through `@opentelemetry/api`, recorded by the real OpenTelemetry SDK
 * (registered before the application starts, as a `main.ts` does), after real requests to a real
 * Nest application against a real introspection server, and a real circuit breaker opening against a
 * failing one. Counts are read as differences, so both platforms share one SDK.
 */

@Controller('t')
@UseGuards(OAuth2Guard)
class TelemetryController {
  @Get()
  read() {
    return { ok: true };
  }

  @Get('admin')
  @RequiredScopes('admin')
  admin() {
    return { ok: true };
  }

  @Get('negative')
  @OAuth2Policy({ oauthCacheResource: 'negative' })
  negative() {
    return { ok: true };
  }
}

/** A subclass that introspects every call afresh, past the route's cache: its introspectOnce() decides. */
@Injectable()
class FreshGuard extends OAuth2Guard {
  protected override introspectOnce(
    state: OAuth2RequestState,
    resource: OAuth2Resource,
    _cache: TokenCache | undefined,
    token: string,
  ): IntrospectionPayload | Promise<IntrospectionPayload> {
    return super.introspectOnce(state, resource, undefined, token);
  }
}

@Controller('fresh')
@UseGuards(FreshGuard)
class FreshController {
  @Get()
  read() {
    return { ok: true };
  }
}

@Controller('flaky')
@UseGuards(OAuth2Guard)
@OAuth2Policy({ oauthResource: 'flaky', oauthCacheResource: false })
class FlakyController {
  @Get()
  read() {
    return { ok: true };
  }
}

const CLIENT_SECRET = 'client-secret-5c1f0e';
const SUBJECT = 'subject-value-a93d1';
const CLIENT_ID = 'client-id-value-77ab';
const EMAIL = 'alice-3b2e@example.test';

const sdk = new OpenTelemetrySdk();

beforeAll(() => {
  sdk.register();
});

afterAll(async () => {
  await sdk.shutdown();
});

describe.each(ADAPTERS)('telemetry with the OpenTelemetry SDK, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const flaky = new FaultyAuthorizationServer();
  let app: INestApplication;
  const active = `${adapter}-active-token-e81c2`;
  const inactive = `${adapter}-inactive-token-0d4f9`;

  const get = (path: string, token?: string) => {
    const call = request(app.getHttpServer()).get(path);
    return token === undefined ? call : call.set('Authorization', `Bearer ${token}`);
  };

  beforeAll(async () => {
    const url = await server.start();
    const flakyUrl = await flaky.start();
    flaky.faultFor = () => ({ kind: 'answer', status: 503, body: { error: 'down' } });
    server.tokens.set(active, {
      active: true,
      scope: 'read',
      sub: SUBJECT,
      client_id: CLIENT_ID,
      email: EMAIL,
      exp: nowSeconds() + 600,
    });
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            genericResource('as', url, { clientSecret: CLIENT_SECRET }),
            genericResource('flaky', flakyUrl, {
              clientSecret: CLIENT_SECRET,
              circuitBreaker: { failureThreshold: 2, coolDownSeconds: 60 },
            }),
          ],
          caches: [
            { name: 'local', timeToLiveSeconds: 300 },
            { name: 'negative', timeToLiveSeconds: 300, negativeTimeToLiveSeconds: 300 },
          ],
          policy: { oauthResource: 'as', oauthCacheResource: 'local' },
        }),
      ],
      controllers: [TelemetryController, FlakyController, FreshController],
      providers: [FreshGuard],
    });
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
    await flaky.stop();
  });

  it('counts introspections by resource and outcome, times them, and counts cache misses and hits', async () => {
    const introspected = () => sdk.sum('oauth2.introspections', { resource: 'as', outcome: 'active' });
    const timed = () => sdk.sum('oauth2.introspection.duration', { resource: 'as' });
    const lookups = (result: string) => sdk.sum('oauth2.cache.lookups', { cache: 'local', result });
    const before = {
      introspected: await introspected(),
      timed: await timed(),
      miss: await lookups('miss'),
      hit: await lookups('hit'),
    };

    await get('/t', active).expect(200);
    await get('/t', active).expect(200);
    await get('/t', active).expect(200);

    expect(await introspected()).toBe(before.introspected + 1);
    expect(await timed()).toBe(before.timed + 1);
    expect(await lookups('miss')).toBe(before.miss + 1);
    expect(await lookups('hit')).toBe(before.hit + 2);
    const histogram = (await sdk.points('oauth2.introspection.duration')).find(
      (point) => point.attributes.resource === 'as',
    );
    expect(histogram).toBeDefined();
  });

  it('counts each cache hit once: a token the memory cache remembers, and an inactive one it keeps', async () => {
    const lookups = (cache: string, result: string) => sdk.sum('oauth2.cache.lookups', { cache, result });
    const rejections = () => sdk.sum('oauth2.rejections', { key: 'OAUTH2_INVALID_ACCESS_TOKEN' });
    const introspected = (outcome: string) => sdk.sum('oauth2.introspections', { resource: 'as', outcome });
    const kept = `${adapter}-kept-token-4b1e9`;
    const revoked = `${adapter}-revoked-token-9c7a2`;
    server.tokens.set(kept, { active: true, scope: 'read', exp: nowSeconds() + 600 });
    const before = {
      localHit: await lookups('local', 'hit'),
      localMiss: await lookups('local', 'miss'),
      negativeHit: await lookups('negative', 'hit'),
      negativeMiss: await lookups('negative', 'miss'),
      active: await introspected('active'),
      inactive: await introspected('inactive'),
      rejected: await rejections(),
    };

    // The first hit finds the entry by its key and remembers the token; the next three find it by the token.
    for (let i = 0; i < 5; i++) {
      await get('/t', kept).expect(200);
    }
    // An inactive answer, kept: the first hit remembers the token beside it too, and each is refused.
    for (let i = 0; i < 4; i++) {
      await get('/t/negative', revoked).expect(401);
    }

    expect(await introspected('active')).toBe(before.active + 1);
    expect(await lookups('local', 'miss')).toBe(before.localMiss + 1);
    expect(await lookups('local', 'hit')).toBe(before.localHit + 4);
    expect(await introspected('inactive')).toBe(before.inactive + 1);
    expect(await lookups('negative', 'miss')).toBe(before.negativeMiss + 1);
    expect(await lookups('negative', 'hit')).toBe(before.negativeHit + 3);
    expect(await rejections()).toBe(before.rejected + 4);
  });

  it("leaves a subclass's introspectOnce() to decide, even for a token the route's cache remembers", async () => {
    const token = `${adapter}-fresh-token-2d8e0`;
    server.tokens.set(token, { active: true, scope: 'read', exp: nowSeconds() + 600 });
    const hits = () => sdk.sum('oauth2.cache.lookups', { cache: 'local', result: 'hit' });
    const introspected = () => sdk.sum('oauth2.introspections', { resource: 'as', outcome: 'active' });
    // Remembered by the route's cache: looked up by key once, then by the token.
    await get('/t', token).expect(200);
    await get('/t', token).expect(200);
    await get('/t', token).expect(200);
    const before = { hits: await hits(), introspected: await introspected() };

    for (let i = 0; i < 3; i++) {
      await get('/fresh', token).expect(200);
    }

    // Introspected afresh each time, as the subclass says, and the cache not even read.
    expect(await introspected()).toBe(before.introspected + 3);
    expect(await hits()).toBe(before.hits);
  });

  it('counts inactive answers, and rejections by key', async () => {
    const rejections = (key: string) => sdk.sum('oauth2.rejections', { key });
    const before = {
      inactive: await sdk.sum('oauth2.introspections', { resource: 'as', outcome: 'inactive' }),
      invalid: await rejections('OAUTH2_INVALID_ACCESS_TOKEN'),
      missing: await rejections('OAUTH2_MISSING_HEADER'),
      scope: await rejections('OAUTH2_INSUFFICIENT_SCOPE'),
    };

    await get('/t', inactive).expect(401);
    await get('/t').expect(401);
    await get('/t/admin', active).expect(403);

    expect(await sdk.sum('oauth2.introspections', { resource: 'as', outcome: 'inactive' })).toBe(before.inactive + 1);
    expect(await rejections('OAUTH2_INVALID_ACCESS_TOKEN')).toBe(before.invalid + 1);
    expect(await rejections('OAUTH2_MISSING_HEADER')).toBe(before.missing + 1);
    expect(await rejections('OAUTH2_INSUFFICIENT_SCOPE')).toBe(before.scope + 1);
    for (const point of await sdk.points('oauth2.rejections')) {
      expect(Object.keys(point.attributes)).toEqual(['key']);
    }
  });

  it('counts failed introspections, and shows the circuit breaker open', async () => {
    const unavailable = () => sdk.sum('oauth2.introspections', { resource: 'flaky', outcome: 'server_unavailable' });
    const before = await unavailable();
    const stateOf = async (resource: string) =>
      (await sdk.points('oauth2.breaker.state')).find((point) => point.attributes.resource === resource)?.value;
    expect(await stateOf('flaky')).toBe(0);

    // Two 503 answers open the circuit; the third request fails at once, without calling the server.
    for (let i = 0; i < 3; i++) {
      await get('/flaky', `${adapter}-flaky-token-${i}`).expect(403);
    }

    expect(flaky.records).toHaveLength(2);
    expect(await unavailable()).toBe(before + 3);
    expect(await stateOf('flaky')).toBe(2);
    expect(await stateOf('as')).toBe(0);
    flaky.records.length = 0;
  });

  it('wraps each introspection in an oauth2.introspect span with the resource and the outcome', async () => {
    sdk.spans.reset();
    const token = `${adapter}-span-token-7f11`;
    server.tokens.set(token, { active: true, scope: 'read', exp: nowSeconds() + 600 });

    await get('/t', token).expect(200);
    await get('/t', token).expect(200);
    await get('/flaky', `${adapter}-flaky-span-token`).expect(403);

    const spans = sdk.spans.getFinishedSpans().filter((span) => span.name === 'oauth2.introspect');
    expect(spans.map((span) => span.attributes)).toEqual([
      { 'oauth2.resource': 'as', 'oauth2.outcome': 'active' },
      { 'oauth2.resource': 'flaky', 'oauth2.outcome': 'server_unavailable' },
    ]);
    expect(spans[0].status.code).toBe(0);
    expect(spans[1].status).toEqual({ code: 2, message: 'server_unavailable' });
    expect(spans[1].events).toEqual([]);
  });

  it('records no token, secret or payload value anywhere', async () => {
    const text = await sdk.recordedText();
    expect(text).toContain('oauth2.introspect');
    for (const secret of [active, inactive, 'flaky-token', 'span-token', CLIENT_SECRET, SUBJECT, CLIENT_ID, EMAIL]) {
      expect(text).not.toContain(secret);
    }
  });
});
