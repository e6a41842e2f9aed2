import { jest } from '@jest/globals';
import { INACTIVE_ENTRY, activeEntry } from './cached-introspection';
import { MemoryTokenCacheStore } from './memory-token-cache.store';
import type { CachedIntrospection } from './token-cache-store.interface';

const payload = (id: string): CachedIntrospection => activeEntry(Object.freeze({ active: true, jti: id }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MINUTE = 60_000;

describe('MemoryTokenCacheStore', () => {
  let store: MemoryTokenCacheStore;

  afterEach(() => store.close());

  it('gives back what was set, the same frozen object', async () => {
    store = new MemoryTokenCacheStore(10);
    const value = payload('a');
    await store.set('a', value, MINUTE);
    expect(await store.get('a')).toBe(value);
    expect(await store.get('missing')).toBeUndefined();
  });

  describe('peek, the synchronous read of the hot path', () => {
    it('gives back what set stored, the same object, without a promise', async () => {
      store = new MemoryTokenCacheStore(10);
      const value = payload('a');
      await store.set('a', value, MINUTE);
      expect(store.peek('a')).toBe(value);
      expect(store.peek('missing')).toBeUndefined();
      await store.delete('a');
      expect(store.peek('a')).toBeUndefined();
    });

    it('does not give an entry past its TTL, nor extend it', async () => {
      store = new MemoryTokenCacheStore(10);
      await store.set('a', payload('a'), 120);
      await sleep(60);
      expect(store.peek('a')).toBeDefined();
      await sleep(90);
      expect(store.peek('a')).toBeUndefined();
      expect(await store.get('a')).toBeUndefined();
    });

    it('counts as a use for eviction', async () => {
      store = new MemoryTokenCacheStore(2);
      await store.set('a', payload('a'), MINUTE);
      await store.set('b', payload('b'), MINUTE);
      expect(store.peek('a')).toBeDefined();
      await store.set('c', payload('c'), MINUTE);
      expect(store.peek('a')).toBeDefined();
      expect(store.peek('b')).toBeUndefined();
    });
  });

  describe('peekToken, the hot path of a token seen before', () => {
    it('finds an entry by the token remembered beside it, until the entry goes', async () => {
      store = new MemoryTokenCacheStore(10);
      const value = payload('a');
      await store.set('key-a', value, MINUTE);
      expect(store.peekToken!('as', 'token-a')).toBeUndefined();
      store.rememberToken!('key-a', 'as', 'token-a');
      expect(store.peekToken!('as', 'token-a')).toBe(value);
      expect(store.rememberedTokens).toBe(1);
      await store.delete('key-a');
      expect(store.peekToken!('as', 'token-a')).toBeUndefined();
      expect(store.rememberedTokens).toBe(0);
    });

    it('forgets the token of an expired entry, and of an evicted one', async () => {
      store = new MemoryTokenCacheStore(1);
      await store.set('short', payload('s'), 60);
      store.rememberToken!('short', 'as', 'token-s');
      await sleep(90);
      expect(store.peekToken!('as', 'token-s')).toBeUndefined();
      expect(store.rememberedTokens).toBe(0);
      expect(store.size).toBe(0);

      await store.set('a', payload('a'), MINUTE);
      store.rememberToken!('a', 'as', 'token-a');
      await store.set('b', payload('b'), MINUTE);
      expect(store.peekToken!('as', 'token-a')).toBeUndefined();
      expect(store.rememberedTokens).toBe(0);
    });

    it('remembers no token with rememberTokens: false', async () => {
      store = new MemoryTokenCacheStore(3, undefined, false);
      expect(store.peekToken).toBeUndefined();
      expect(store.rememberToken).toBeUndefined();
      expect(store.rememberedTokens).toBe(0);
    });

    it('remembers no more tokens than it holds entries', async () => {
      store = new MemoryTokenCacheStore(3);
      for (let index = 0; index < 50; index++) {
        await store.set(`k${index}`, payload(`${index}`), MINUTE);
        store.rememberToken!(`k${index}`, 'as', `t${index}`);
        store.rememberToken!(`k${index - 1}`, 'as', `t${index - 1}`);
        expect(store.rememberedTokens).toBeLessThanOrEqual(3);
      }
    });
  });

  it('keeps the entry of an inactive token', async () => {
    store = new MemoryTokenCacheStore(10);
    await store.set('a', INACTIVE_ENTRY, MINUTE);
    expect(await store.get('a')).toBe(INACTIVE_ENTRY);
  });

  it('does not extend an entry when it is read', async () => {
    store = new MemoryTokenCacheStore(10);
    await store.set('a', payload('a'), 150);
    for (let read = 0; read < 4; read++) {
      await sleep(50);
      await store.get('a');
    }
    // 200 ms after it was set, and read every 50 ms: gone at 150 ms all the same.
    expect(await store.get('a')).toBeUndefined();
  });

  it('replaces the value of a key set again', async () => {
    store = new MemoryTokenCacheStore(10);
    await store.set('a', payload('first'), MINUTE);
    await store.set('a', payload('second'), MINUTE);
    expect(await store.get('a')).toEqual(payload('second'));
  });

  it('forgets a deleted key', async () => {
    store = new MemoryTokenCacheStore(10);
    await store.set('a', payload('a'), MINUTE);
    await store.set('b', payload('b'), MINUTE);
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toEqual(payload('b'));
  });

  it('forgets an entry once its TTL has passed', async () => {
    store = new MemoryTokenCacheStore(10);
    await store.set('short', payload('short'), 50);
    await store.set('long', payload('long'), MINUTE);
    expect(await store.get('short')).toEqual(payload('short'));
    await sleep(120);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.get('long')).toEqual(payload('long'));
  });

  describe('bounded to maxEntries', () => {
    it('evicts the oldest entry first', async () => {
      store = new MemoryTokenCacheStore(3);
      for (const key of ['a', 'b', 'c', 'd']) {
        await store.set(key, payload(key), MINUTE);
      }
      expect(await store.get('a')).toBeUndefined();
      for (const key of ['b', 'c', 'd']) {
        expect(await store.get(key)).toEqual(payload(key));
      }
    });

    it('evicts an entry that was not read before one that was', async () => {
      store = new MemoryTokenCacheStore(3);
      for (const key of ['a', 'b', 'c']) {
        await store.set(key, payload(key), MINUTE);
      }
      expect(await store.get('a')).toEqual(payload('a'));
      await store.set('d', payload('d'), MINUTE);
      expect(await store.get('b')).toBeUndefined();
      for (const key of ['a', 'c', 'd']) {
        expect(await store.get(key)).toEqual(payload(key));
      }
    });

    it('never holds more than maxEntries', async () => {
      store = new MemoryTokenCacheStore(5);
      for (let index = 0; index < 50; index++) {
        await store.set(`k${index}`, payload(String(index)), MINUTE);
        expect(store.size).toBeLessThanOrEqual(5);
      }
      const held = await Promise.all(Array.from({ length: 50 }, (_, index) => store.get(`k${index}`)));
      expect(held.filter((value) => value !== undefined)).toHaveLength(5);
      expect(held.slice(45)).toEqual([45, 46, 47, 48, 49].map((index) => payload(String(index))));
    });
  });

  describe('idle time (timeToIdleSeconds)', () => {
    // The store's clock is Date.now(): a test clock, so that a busy machine cannot stretch the waits.
    let clock = 0;
    beforeEach(() => {
      clock = Date.now();
      jest.spyOn(Date, 'now').mockImplementation(() => clock);
    });
    afterEach(() => jest.restoreAllMocks());

    it('drops an entry left unread for the idle time, keeps one that is read, for peek and get alike', async () => {
      store = new MemoryTokenCacheStore(10, 150);
      await store.set('read', payload('read'), MINUTE);
      await store.set('unread', payload('unread'), MINUTE);
      await store.set('viaGet', payload('viaGet'), MINUTE);
      for (let round = 0; round < 3; round += 1) {
        clock += 100;
        expect(store.peek('read')).toBeDefined();
        expect(await store.get('viaGet')).toBeDefined();
      }
      expect(store.peek('unread')).toBeUndefined();
      expect(store.size).toBe(2);
      clock += 150;
      expect(store.peek('read')).toBeUndefined();
      expect(await store.get('viaGet')).toBeUndefined();
    });

    it('never keeps an entry past its TTL, however often it is read', async () => {
      store = new MemoryTokenCacheStore(10, 100);
      await store.set('a', payload('a'), 150);
      clock += 90;
      expect(store.peek('a')).toBeDefined();
      clock += 59;
      expect(store.peek('a')).toBeDefined();
      clock += 1;
      expect(store.peek('a')).toBeUndefined();
    });
  });
});
