import { jest } from '@jest/globals';
import { createClient } from '@keyv/redis';
import { Logger } from '@nestjs/common';
import { activeEntry, INACTIVE_ENTRY } from '../../lib/cache/cached-introspection';
import { RedisTokenCacheStore } from '../../lib/cache/redis-token-cache.store';
import { TokenCache } from '../../lib/cache/token-cache';
import { refusedUrl } from '../support/e2e-kit';
import { sleep } from '../support/guard-e2e-helpers';
import { describeWithRedis, RedisServer } from '../support/redis-server';

/**
 * "At once": far below a reconnection delay or any timeout, yet with room for a garbage-collection
 * pause on a busy two-core CI machine. A queued call would never settle at all.
 */
const AT_ONCE_MS = 200;

const entry = activeEntry(Object.freeze({ active: true, sub: 'alice', scope: 'read write', exp: 4_102_444_800 }));

function storeFor(url: string, keyPrefix = 'oauth2:test:'): RedisTokenCacheStore {
  return new RedisTokenCacheStore({ name: 'test', url, keyPrefix, connectTimeout: 1000 });
}

/** Milliseconds a call takes. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; outcome: 'resolved' | 'rejected' }> {
  const started = performance.now();
  const outcome = await call().then(
    () => 'resolved' as const,
    () => 'rejected' as const,
  );
  return { ms: performance.now() - started, outcome };
}

describeWithRedis('RedisTokenCacheStore against a real redis-server', () => {
  let redis: RedisServer;
  const stores: RedisTokenCacheStore[] = [];
  const track = (store: RedisTokenCacheStore) => (stores.push(store), store);

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('keeps an entry as JSON under the prefixed key, with a TTL, and gives it back frozen', async () => {
    const store = track(storeFor(redis.url));
    await store.open();
    await store.set('k1', entry, 30_000);
    await store.set('k2', INACTIVE_ENTRY, 5_000);
    const read = await store.get('k1');
    expect(read).toEqual(entry);
    expect(Object.isFrozen(read)).toBe(true);
    expect(await store.get('k2')).toBe(INACTIVE_ENTRY);
    expect(await store.get('missing')).toBeUndefined();

    const held = new Map((await redis.dump()).map((row) => [row.key, row]));
    const k1 = held.get('oauth2:test:k1');
    expect(k1).toBeDefined();
    expect(JSON.parse(k1!.value)).toEqual({ value: JSON.parse(JSON.stringify(entry)), expires: expect.any(Number) });
    expect(k1!.ttlMs).toBeGreaterThan(29_000);
    expect(k1!.ttlMs).toBeLessThanOrEqual(30_000);
    expect(JSON.parse(held.get('oauth2:test:k2')!.value).value).toEqual({ active: false });

    await store.delete('k1');
    expect(await store.get('k1')).toBeUndefined();
  });

  it('takes a value another program wrote under the prefix as a miss', async () => {
    const store = track(storeFor(redis.url));
    await store.open();
    const client = createClient({ url: redis.url });
    await client.connect();
    await client.set('oauth2:test:foreign', 'not json at all');
    await client.set('oauth2:test:other-format', JSON.stringify({ value: { sub: 'mallory' } }));
    client.destroy();
    await expect(store.get('other-format')).resolves.toBeUndefined();
    // Unparseable: a failure of the store, which TokenCache turns into a miss.
    await expect(store.get('foreign')).rejects.toThrow();
  });

  it('with nothing listening: open() rejects at once, and every call fails at once instead of waiting', async () => {
    const store = track(storeFor(await refusedUrl().then((url) => url.replace('http:', 'redis:'))));
    const opening = await timed(() => store.open());
    expect(opening.outcome).toBe('rejected');
    expect(opening.ms).toBeLessThan(500);
    const calls: Array<() => Promise<unknown>> = [
      () => store.get('k'),
      () => store.set('k', entry, 1000),
      () => store.delete('k'),
    ];
    for (const call of calls) {
      const result = await timed(call);
      expect(result.outcome).toBe('rejected');
      expect(result.ms).toBeLessThan(AT_ONCE_MS);
    }
  });

  it('the trap it avoids: a default node-redis client queues a get while Redis is down, and it never settles', async () => {
    const url = (await refusedUrl()).replace('http:', 'redis:');
    const client = createClient({ url, socket: { reconnectStrategy: 50 } });
    client.on('error', () => undefined);
    client.connect().catch(() => undefined);
    const outcome = await Promise.race([
      client.get('k').then(
        () => 'settled',
        () => 'settled',
      ),
      sleep(300).then(() => 'still waiting'),
    ]);
    client.destroy();
    expect(outcome).toBe('still waiting');
  });

  it('reconnects by itself when Redis comes back, without being reopened', async () => {
    const server = await RedisServer.start();
    try {
      const store = track(storeFor(server.url));
      await store.open();
      await store.set('k', entry, 30_000);
      await server.kill();
      const down = await timed(() => store.get('k'));
      expect(down.outcome).toBe('rejected');
      expect(down.ms).toBeLessThan(AT_ONCE_MS);
      await server.restart();
      const started = Date.now();
      let served = false;
      while (!served && Date.now() - started < 5000) {
        served = await store.set('k', entry, 30_000).then(
          () => true,
          () => false,
        );
        if (!served) {
          await sleep(50);
        }
      }
      expect(served).toBe(true);
      expect(await store.get('k')).toEqual(entry);
    } finally {
      await server.stop();
    }
  });

  it('under TokenCache with hmacSecret, Redis holds the HMAC key, not the SHA-256 one', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const store = storeFor(redis.url, 'oauth2:hmac:');
      const cache = new TokenCache('hmac', store, {
        timeToLiveSeconds: 60,
        hmacSecret: 'sixteen-or-more-chars',
        timeoutMs: 250,
      });
      await cache.open();
      const key = cache.keyOf('as', 'the-token');
      await cache.set(key, { active: true, payload: entry.active ? entry.payload : {} });
      const keys = (await redis.dump()).map((row) => row.key).filter((name) => name.startsWith('oauth2:hmac:'));
      expect(keys).toEqual([`oauth2:hmac:${key}`]);
      expect(keys[0]).not.toContain(TokenCache.key('as', 'the-token'));
      await cache.close();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('closes at once, even while Redis is down', async () => {
    const server = await RedisServer.start();
    const store = storeFor(server.url);
    await store.open();
    await server.stop();
    const closing = await timed(() => store.close());
    expect(closing.outcome).toBe('resolved');
    expect(closing.ms).toBeLessThan(AT_ONCE_MS);
  });
});
