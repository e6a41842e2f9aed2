import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { createHash, createHmac } from 'node:crypto';
import type { IntrospectionPayload, IntrospectionResult } from '../interfaces/introspection.interface';
import { INACTIVE_ENTRY, readEntry } from './cached-introspection';
import { MemoryTokenCacheStore } from './memory-token-cache.store';
import { TOMBSTONE_TTL_MS, TokenCache } from './token-cache';
import type { CachedIntrospection, TokenCacheStore } from './token-cache-store.interface';

/** A memory store that records what it was asked, and can be made to fail or hang. */
class ScriptedStore implements TokenCacheStore {
  readonly memory = new MemoryTokenCacheStore(100);
  readonly calls: Array<{ method: string; key?: string; ttl?: number }> = [];
  mode: 'works' | 'fails' | 'hangs' = 'works';
  openMode: 'works' | 'fails' = 'works';

  async get(key: string): Promise<CachedIntrospection | undefined> {
    await this.act('get', key);
    return this.memory.get(key);
  }

  async set(key: string, entry: CachedIntrospection, ttl: number): Promise<void> {
    await this.act('set', key, ttl);
    await this.memory.set(key, entry, ttl);
  }

  async delete(key: string): Promise<void> {
    await this.act('delete', key);
    await this.memory.delete(key);
  }

  async open(): Promise<void> {
    if (this.openMode === 'fails') {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    }
  }

  async close(): Promise<void> {
    await this.memory.close();
  }

  private act(method: string, key?: string, ttl?: number): Promise<void> {
    this.calls.push({ method, key, ttl });
    if (this.mode === 'fails') {
      return Promise.reject(Object.assign(new Error('connection refused by 10.0.0.1'), { code: 'ECONNREFUSED' }));
    }
    // Never settles, as a Redis that accepted the command and went silent.
    return this.mode === 'hangs' ? new Promise<void>(() => undefined) : Promise.resolve();
  }
}

const active = (payload: IntrospectionPayload): IntrospectionResult => ({
  active: true,
  payload: Object.freeze(payload),
});
const inactive: IntrospectionResult = { active: false, payload: Object.freeze({ active: false }) };

describe('TokenCache.key', () => {
  it('is the same for the same resource and token', () => {
    expect(TokenCache.key('as', 'token-1')).toBe(TokenCache.key('as', 'token-1'));
  });

  it('differs per token and per resource', () => {
    const keys = new Set([
      TokenCache.key('as', 'token-1'),
      TokenCache.key('as', 'token-2'),
      TokenCache.key('other-as', 'token-1'),
      // The separator keeps name and token apart: 'a' + 'stoken' is not 'as' + 'token'.
      TokenCache.key('a', 'stoken-1'),
    ]);
    expect(keys.size).toBe(4);
  });

  it('never contains the token, whole or in part', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.secret-part.signature';
    const key = TokenCache.key('as', token);
    expect(key).not.toContain(token);
    for (const part of token.split('.')) {
      expect(key).not.toContain(part);
    }
  });

  it('is the SHA-256 digest of resource, NUL and token, in base64url', () => {
    expect(TokenCache.key('as', 'token')).toBe(createHash('sha256').update('as\0token').digest('base64url'));
    expect(TokenCache.key('as', 'token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('TokenCache.keyOf', () => {
  const secret = 'a-secret-of-32-characters-------';

  it('is the SHA-256 key without hmacSecret', () => {
    const cache = new TokenCache('c', new ScriptedStore(), { timeToLiveSeconds: 60 });
    expect(cache.keyOf('as', 'token')).toBe(TokenCache.key('as', 'token'));
  });

  it('is the HMAC-SHA-256 of resource, NUL and token under hmacSecret', () => {
    const cache = new TokenCache('c', new ScriptedStore(), { timeToLiveSeconds: 60, hmacSecret: secret });
    expect(cache.keyOf('as', 'token')).toBe(createHmac('sha256', secret).update('as\0token').digest('base64url'));
    expect(cache.keyOf('as', 'token')).not.toBe(TokenCache.key('as', 'token'));
  });

  it('differs per secret, so instances must share theirs to share entries', () => {
    const one = new TokenCache('c', new ScriptedStore(), { timeToLiveSeconds: 60, hmacSecret: secret });
    const other = new TokenCache('c', new ScriptedStore(), { timeToLiveSeconds: 60, hmacSecret: `${secret}!` });
    const same = new TokenCache('c', new ScriptedStore(), { timeToLiveSeconds: 60, hmacSecret: secret });
    expect(one.keyOf('as', 'token')).not.toBe(other.keyOf('as', 'token'));
    expect(one.keyOf('as', 'token')).toBe(same.keyOf('as', 'token'));
  });
});

describe('TokenCache.ttlMilliseconds', () => {
  const now = 1_700_000_000_000;
  const nowSeconds = now / 1000;

  it('is the time left before exp when it is shorter than the TTL', () => {
    expect(TokenCache.ttlMilliseconds({ exp: nowSeconds + 60 }, 300, now)).toBe(60_000);
  });

  it('is the TTL when exp is further away', () => {
    expect(TokenCache.ttlMilliseconds({ exp: nowSeconds + 3600 }, 300, now)).toBe(300_000);
  });

  it('is the TTL when there is no exp', () => {
    expect(TokenCache.ttlMilliseconds({ active: true }, 300, now)).toBe(300_000);
  });

  it('keeps the milliseconds of a fractional exp', () => {
    expect(TokenCache.ttlMilliseconds({ exp: nowSeconds + 1.5 }, 300, now)).toBe(1500);
  });

  it.each([
    ['exp is past', nowSeconds - 1],
    ['exp is now', nowSeconds],
  ])('is undefined (do not keep) when %s', (_, exp) => {
    expect(TokenCache.ttlMilliseconds({ exp }, 300, now)).toBeUndefined();
  });

  it.each([
    ['a string', String(nowSeconds + 60)],
    ['null', null],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('is undefined when exp is %s', (_, exp) => {
    expect(TokenCache.ttlMilliseconds({ exp }, 300, now)).toBeUndefined();
  });
});

describe('TokenCache', () => {
  const payload = { active: true, client_id: 'app', scope: 'a' };
  let store: ScriptedStore;
  let cache: TokenCache;
  let warn: ReturnType<typeof jest.spyOn>;
  let log: ReturnType<typeof jest.spyOn>;

  beforeEach(() => {
    store = new ScriptedStore();
    cache = new TokenCache('shared', store, { timeToLiveSeconds: 300 });
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    warn.mockRestore();
    log.mockRestore();
    await cache.close();
  });

  const setCalls = () => store.calls.filter((call) => call.method === 'set');

  it('keeps an active payload under its key and gives back the same frozen payload', async () => {
    const key = TokenCache.key('as', 'tok');
    const result = active(payload);
    await cache.set(key, result);
    const entry = await cache.get(key);
    expect(entry).toEqual({ active: true, payload });
    expect(entry?.active && entry.payload).toBe(result.payload);
    expect(Object.isFrozen(entry)).toBe(true);
    expect(await cache.get(TokenCache.key('as', 'other'))).toBeUndefined();
  });

  it('keeps an active payload for min(exp - now, timeToLiveSeconds)', async () => {
    const nowSeconds = Date.now() / 1000;
    await cache.set('soon', active({ ...payload, exp: nowSeconds + 30 }));
    await cache.set('late', active({ ...payload, exp: nowSeconds + 3600 }));
    const [soon, late] = setCalls();
    expect(soon.ttl).toBeGreaterThan(29_000);
    expect(soon.ttl).toBeLessThanOrEqual(30_000);
    expect(late.ttl).toBe(300_000);
  });

  it('does not keep a payload whose token has expired, or whose exp is unreadable', async () => {
    await cache.set('expired', active({ ...payload, exp: Date.now() / 1000 - 10 }));
    await cache.set('unreadable', active({ ...payload, exp: 'soon' }));
    expect(setCalls()).toEqual([]);
  });

  it('does not keep an inactive token without negativeTimeToLiveSeconds', async () => {
    await cache.set('key', inactive);
    expect(setCalls()).toEqual([]);
    expect(await cache.get('key')).toBeUndefined();
  });

  it('keeps an inactive token for negativeTimeToLiveSeconds, as the shared inactive entry', async () => {
    const negative = new TokenCache('negative', store, { timeToLiveSeconds: 300, negativeTimeToLiveSeconds: 15 });
    await negative.set('key', inactive);
    expect(setCalls()).toEqual([{ method: 'set', key: 'key', ttl: 15_000 }]);
    expect(await negative.get('key')).toBe(INACTIVE_ENTRY);
  });

  it('evicts a token at a resource, and only there', async () => {
    const here = TokenCache.key('as', 'tok');
    const there = TokenCache.key('other-as', 'tok');
    await cache.set(here, active(payload));
    await cache.set(there, active(payload));
    await cache.evict('as', 'tok');
    expect(await cache.get(here)).toBeUndefined();
    expect(await cache.get(there)).toEqual({ active: true, payload });
  });

  it('evicts under the HMAC key when it has a secret', async () => {
    const keyed = new TokenCache('keyed', store, { timeToLiveSeconds: 300, hmacSecret: 'sixteen-chars-ok' });
    const key = keyed.keyOf('as', 'tok');
    await keyed.set(key, active(payload));
    await keyed.evict('as', 'tok');
    expect(await keyed.get(key)).toBeUndefined();
  });

  it('does not write an answer obtained across an eviction (a token revoked during its introspection)', async () => {
    const key = TokenCache.key('as', 'tok');
    const mark = cache.evictionMark();
    await cache.evict('as', 'tok');
    await cache.set(key, active(payload), mark);
    expect(await cache.get(key)).toBeUndefined();
    await cache.set(key, active(payload), cache.evictionMark());
    expect(await cache.get(key)).toBeDefined();
  });

  describe('peek, the synchronous read', () => {
    it('answers from a memory store at once, and not at all from a store without peek', async () => {
      const memory = new MemoryTokenCacheStore(10);
      const inMemory = new TokenCache('local', memory, { timeToLiveSeconds: 300 });
      const key = TokenCache.key('as', 'tok');
      await inMemory.set(key, active(payload));
      expect(inMemory.peekable).toBe(true);
      expect(inMemory.peek(key)).toEqual({ active: true, payload });
      expect(inMemory.peek(TokenCache.key('as', 'other'))).toBeUndefined();
      await inMemory.close();

      await cache.set(key, active(payload));
      expect(cache.peekable).toBe(false);
      expect(cache.peek(key)).toBeUndefined();
    });

    it('remembers the token of a hit beside its entry, so that its next look-up skips the hash', async () => {
      const memory = new MemoryTokenCacheStore(10);
      const inMemory = new TokenCache('local', memory, { timeToLiveSeconds: 300 });
      const key = inMemory.keyOf('as', 'tok');
      await inMemory.set(key, active(payload));
      // Not remembered by the write, nor by a look-up without the token.
      expect(inMemory.peekToken('as', 'tok')).toBeUndefined();
      expect(inMemory.peek(key)).toBeDefined();
      expect(inMemory.peekToken('as', 'tok')).toBeUndefined();
      // A hit with the token remembers it, at that resource only.
      expect(inMemory.peek(key, 'as', 'tok')).toEqual({ active: true, payload });
      expect(inMemory.peekToken('as', 'tok')).toEqual({ active: true, payload });
      expect(inMemory.peekToken('other-as', 'tok')).toBeUndefined();
      expect(inMemory.peekToken('as', 'tok2')).toBeUndefined();
      // A miss remembers nothing.
      expect(inMemory.peek(inMemory.keyOf('as', 'absent'), 'as', 'absent')).toBeUndefined();
      expect(inMemory.peekToken('as', 'absent')).toBeUndefined();
      // Gone with the entry: an eviction (revocation) forgets the token too.
      await inMemory.evict('as', 'tok');
      expect(inMemory.peekToken('as', 'tok')).toBeUndefined();
      expect(memory.rememberedTokens).toBe(0);
      await inMemory.close();
    });

    it('remembers a remembered token by the header it was read from, and by no other text', async () => {
      const memory = new MemoryTokenCacheStore(10);
      const inMemory = new TokenCache('local', memory, { timeToLiveSeconds: 300 });
      const key = inMemory.keyOf('as', 'tok');
      await inMemory.set(key, active(payload));
      // Not remembered yet: nothing to rename.
      inMemory.rememberWriting('as', 'tok', 'Bearer tok');
      expect(inMemory.peekToken('as', 'Bearer tok')).toBeUndefined();
      inMemory.peek(key, 'as', 'tok');
      // Texts that are not a Bearer value of exactly this token are ignored.
      for (const text of ['Basic tok', 'Bearer tok2', 'Bearertok', 'Bearer', 'DPoP tok', 'tok', 'Bearer "tok"']) {
        inMemory.rememberWriting('as', 'tok', text);
        expect(inMemory.peekToken('as', 'tok')).toEqual({ active: true, payload });
      }
      // At another resource, the token is not remembered: nothing happens.
      inMemory.rememberWriting('other-as', 'tok', 'Bearer tok');
      expect(inMemory.peekToken('other-as', 'Bearer tok')).toBeUndefined();
      // A Bearer value of the token, in any case and spacing: the entry is found by it, and no longer by the token.
      inMemory.rememberWriting('as', 'tok', 'bEaReR \t tok ');
      expect(inMemory.peekToken('as', 'bEaReR \t tok ')).toEqual({ active: true, payload });
      expect(inMemory.peekToken('as', 'tok')).toBeUndefined();
      expect(memory.rememberedTokens).toBe(1);
      // Found by its key, the token is remembered again (one name at a time), and can be renamed again.
      inMemory.peek(key, 'as', 'tok');
      expect(inMemory.peekToken('as', 'bEaReR \t tok ')).toBeUndefined();
      inMemory.rememberWriting('as', 'tok', 'Bearer tok');
      expect(inMemory.peekActiveToken('as', 'Bearer tok')).toEqual(payload);
      // Gone with the entry.
      await inMemory.evict('as', 'tok');
      expect(inMemory.peekToken('as', 'Bearer tok')).toBeUndefined();
      expect(memory.rememberedTokens).toBe(0);
      // A store that does not remember tokens ignores it.
      const plain = new TokenCache('plain', new MemoryTokenCacheStore(10, undefined, false), {
        timeToLiveSeconds: 300,
      });
      const plainKey = plain.keyOf('as', 'tok');
      await plain.set(plainKey, active(payload));
      plain.peek(plainKey, 'as', 'tok');
      plain.rememberWriting('as', 'tok', 'Bearer tok');
      expect(plain.peekToken('as', 'Bearer tok')).toBeUndefined();
      await Promise.all([inMemory.close(), plain.close()]);
    });

    it('remembers only tokens of the b64token syntax, so that a hit by token needs no syntax check', async () => {
      const memory = new MemoryTokenCacheStore(10);
      const inMemory = new TokenCache('local', memory, { timeToLiveSeconds: 300 });
      // Whoever looked them up (TokenIntrospectionService.activePayload() is public), these are not kept.
      for (const malformed of ['two words', 'quote"d', 'comma,separated', 'caf\u00e9', '=x', '']) {
        const key = inMemory.keyOf('as', malformed);
        await inMemory.set(key, active(payload));
        expect(inMemory.peek(key, 'as', malformed)).toEqual({ active: true, payload });
        expect(inMemory.peekToken('as', malformed)).toBeUndefined();
      }
      expect(memory.rememberedTokens).toBe(0);
      const wellFormed = 'abc-._~+/XYZ09==';
      const key = inMemory.keyOf('as', wellFormed);
      await inMemory.set(key, active(payload));
      expect(inMemory.peekToken('as', wellFormed)).toBeUndefined();
      inMemory.peek(key, 'as', wellFormed);
      expect(memory.rememberedTokens).toBe(1);
      expect(inMemory.peekToken('as', wellFormed)).toEqual({ active: true, payload });
      expect(inMemory.peekToken('other-as', wellFormed)).toBeUndefined();
      // Gone with the entry.
      await inMemory.evict('as', wellFormed);
      expect(inMemory.peekToken('as', wellFormed)).toBeUndefined();
      expect(memory.rememberedTokens).toBe(0);
      await inMemory.close();
      // A store that remembers nothing finds nothing by token.
      const forgetfulStore = new MemoryTokenCacheStore(10, undefined, false);
      const forgetful = new TokenCache('plain', forgetfulStore, { timeToLiveSeconds: 300 });
      const plainKey = forgetful.keyOf('as', wellFormed);
      await forgetful.set(plainKey, active(payload));
      expect(forgetful.peek(plainKey, 'as', wellFormed)).toEqual({ active: true, payload });
      expect(forgetful.peekToken('as', wellFormed)).toBeUndefined();
      expect(forgetfulStore.rememberedTokens).toBe(0);
      await forgetful.close();
    });

    it('reads the clock of a hit by token from its caller when given: an entry past its TTL then is a miss', async () => {
      const memory = new MemoryTokenCacheStore(10);
      const inMemory = new TokenCache('local', memory, { timeToLiveSeconds: 60 });
      const key = inMemory.keyOf('as', 'tok');
      await inMemory.set(key, active(payload));
      inMemory.peek(key, 'as', 'tok');
      const now = Date.now();
      expect(inMemory.peekToken('as', 'tok', now)).toEqual({ active: true, payload });
      // The caller's clock, not the store's: 61 s on, the 60 s entry has expired.
      expect(inMemory.peekToken('as', 'tok', now + 61_000)).toBeUndefined();
      await inMemory.close();
    });

    it('remembers tokens under hmacSecret as well, and never for a store without peek', async () => {
      const memory = new MemoryTokenCacheStore(10);
      const keyed = new TokenCache('hmac', memory, { timeToLiveSeconds: 300, hmacSecret: 's'.repeat(32) });
      const key = keyed.keyOf('as', 'tok');
      await keyed.set(key, active(payload));
      keyed.peek(key, 'as', 'tok');
      expect(keyed.peekToken('as', 'tok')).toEqual({ active: true, payload });
      await keyed.close();

      await cache.set(TokenCache.key('as', 'tok'), active(payload));
      expect(cache.peek(TokenCache.key('as', 'tok'), 'as', 'tok')).toBeUndefined();
      expect(cache.peekToken('as', 'tok')).toBeUndefined();
    });

    it('counts a hit by token as a hit, and leaves a miss by token to the look-up by key', async () => {
      const memory = new MemoryTokenCacheStore(10);
      const counted = new TokenCache('counted', memory, { timeToLiveSeconds: 300 });
      const adds: string[] = [];
      const attributes = (result: string) => ({ cache: 'counted', result });
      counted.countLookups({
        counter: { add: (_value, { result }) => adds.push(result) },
        hit: attributes('hit'),
        miss: attributes('miss'),
        error: attributes('error'),
        stale: attributes('stale'),
      });
      const key = counted.keyOf('as', 'tok');
      await counted.set(key, active(payload));
      expect(counted.peekToken('as', 'tok')).toBeUndefined();
      counted.peek(key, 'as', 'tok');
      counted.peekToken('as', 'tok');
      expect(adds).toEqual(['hit', 'hit']);
      await counted.close();
    });

    it('takes a peek that throws as a miss, and warns once', async () => {
      const broken: TokenCacheStore = Object.assign(new MemoryTokenCacheStore(10), {
        peek: (): CachedIntrospection | undefined => {
          throw Object.assign(new Error('broken'), { code: 'EBROKEN' });
        },
      });
      const failing = new TokenCache('broken', broken, { timeToLiveSeconds: 300 });
      expect(failing.peek('key')).toBeUndefined();
      expect(failing.peek('key')).toBeUndefined();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toContain("cache 'broken' fails (EBROKEN)");
      await failing.close();
    });
  });

  describe('over a failing store', () => {
    it('takes a failed get as a miss, and never throws from set', async () => {
      store.mode = 'fails';
      await expect(cache.get('key')).resolves.toBeUndefined();
      await expect(
        new TokenCache('other', store, { timeToLiveSeconds: 300 }).set('key', active(payload)),
      ).resolves.toBeUndefined();
    });

    it('warns once while it keeps failing, naming the cache and the cause but no token, key or address', async () => {
      store.mode = 'fails';
      const key = TokenCache.key('as', 'the-token');
      await cache.get(key);
      await cache.set(key, active(payload));
      await cache.get(key);
      expect(warn).toHaveBeenCalledTimes(1);
      const [message] = warn.mock.calls[0] as [string];
      expect(message).toBe("cache 'shared' fails (ECONNREFUSED): tokens are introspected until it works again");
    });

    it('leaves the store alone for a second after a failure, then tries again and says when it works', async () => {
      const now = jest.spyOn(Date, 'now');
      try {
        now.mockReturnValue(1_000_000);
        store.mode = 'fails';
        await cache.get('key');
        expect(store.calls).toHaveLength(1);
        store.mode = 'works';
        now.mockReturnValue(1_000_900);
        await cache.get('key');
        await cache.set('key', active(payload));
        expect(store.calls).toHaveLength(1);
        now.mockReturnValue(1_001_001);
        await cache.get('key');
        expect(store.calls).toHaveLength(2);
        expect(log).toHaveBeenCalledWith("cache 'shared' works again");
      } finally {
        now.mockRestore();
      }
    });

    it('rejects an eviction that failed, so the caller can retry', async () => {
      store.mode = 'fails';
      await expect(cache.evict('as', 'tok')).rejects.toThrow('connection refused');
    });

    it('bounds a call by the timeout: a store that does not answer is a miss after timeoutMs', async () => {
      const bounded = new TokenCache('slow', store, { timeToLiveSeconds: 300, timeoutMs: 50 });
      store.mode = 'hangs';
      const started = Date.now();
      await expect(bounded.get('key')).resolves.toBeUndefined();
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(45);
      expect(elapsed).toBeLessThan(1000);
      expect(warn).toHaveBeenCalledWith(
        "cache 'slow' fails (TimeoutError: no answer within 50 ms): tokens are introspected until it works again",
      );
    });

    it('warns once when the store cannot connect at start-up, and does not throw', async () => {
      store.openMode = 'fails';
      await expect(cache.open()).resolves.toBeUndefined();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toContain("cache 'shared' fails (ECONNREFUSED)");
    });
  });

  it('is a miss once closed, without calling the store, and refuses evictions', async () => {
    await cache.close();
    expect(await cache.get('key')).toBeUndefined();
    await cache.set('key', active(payload));
    expect(store.calls).toEqual([]);
    await expect(cache.evict('as', 'tok')).rejects.toThrow("cache 'shared' is closed");
  });
});

describe('TokenCache: evictions during a look-up', () => {
  const payload = { active: true, client_id: 'app', scope: 'a' };

  it('knows which key was evicted since a mark, and only that key', async () => {
    const cache = new TokenCache('shared', new ScriptedStore(), { timeToLiveSeconds: 300 });
    const here = cache.keyOf('as', 'tok');
    const other = cache.keyOf('as', 'other');
    const mark = cache.evictionMark();
    await cache.evict('as', 'tok');
    expect(cache.evictedSince(here, mark)).toBe(true);
    expect(cache.evictedSince(other, mark)).toBe(false);
    expect(cache.evictedSince(here, cache.evictionMark())).toBe(false);
    // An answer for another key is still written across the eviction.
    await cache.set(other, active(payload), mark);
    expect(await cache.get(other)).toEqual({ active: true, payload });
  });

  it('counts every look-up begun before it forgot evicted keys as overtaken (bounded memory)', async () => {
    const cache = new TokenCache('memory', new MemoryTokenCacheStore(10), { timeToLiveSeconds: 300 });
    const untouched = cache.keyOf('as', 'untouched');
    const early = cache.evictionMark();
    for (let index = 0; index <= 10_000; index += 1) {
      await cache.evict('as', `tok-${index}`);
    }
    expect(cache.evictedSince(untouched, early)).toBe(true);
    expect(cache.evictedSince(untouched, cache.evictionMark())).toBe(false);
  });

  it('leaves a tombstone in a shared store before deleting the entry, which revoked() sees', async () => {
    const store = new ScriptedStore();
    const cache = new TokenCache('shared', store, { timeToLiveSeconds: 300 });
    const key = cache.keyOf('as', 'tok');
    await cache.set(key, active(payload));
    expect(await cache.revoked(key)).toBe(false);
    store.calls.length = 0;
    await cache.evict('as', 'tok');
    expect(store.calls.map(({ method, ttl }) => ({ method, ttl }))).toEqual([
      { method: 'set', ttl: TOMBSTONE_TTL_MS },
      { method: 'delete', ttl: undefined },
    ]);
    const tombstone = store.calls[0].key!;
    expect(tombstone).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tombstone).not.toBe(key);
    expect(await cache.get(key)).toBeUndefined();
    expect(await cache.revoked(key)).toBe(true);
    expect(await cache.revoked(cache.keyOf('as', 'other'))).toBe(false);
  });

  it('leaves no tombstone in a memory store, whose evictions no other instance needs to see', async () => {
    const memory = new MemoryTokenCacheStore(10);
    const cache = new TokenCache('memory', memory, { timeToLiveSeconds: 300 });
    await cache.set(cache.keyOf('as', 'tok'), active(payload));
    await cache.evict('as', 'tok');
    expect(memory.size).toBe(0);
    expect(await cache.revoked(cache.keyOf('as', 'tok'))).toBe(false);
  });

  it('revoked() and discard() never throw: a failing store is no tombstone, and its outage is warned once', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const store = new ScriptedStore();
      const cache = new TokenCache('shared', store, { timeToLiveSeconds: 300 });
      store.mode = 'fails';
      await expect(cache.revoked('key')).resolves.toBe(false);
      await expect(cache.discard('key')).resolves.toBeUndefined();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('discard() drops an entry', async () => {
    const cache = new TokenCache('shared', new ScriptedStore(), { timeToLiveSeconds: 300 });
    await cache.set('key', active(payload));
    await cache.discard('key');
    expect(await cache.get('key')).toBeUndefined();
  });
});

describe('TokenCache with staleIfErrorSeconds', () => {
  const payload = { active: true, scope: 'read' } as IntrospectionPayload;
  let clock = 1_000_000_000_000;
  let now: ReturnType<typeof jest.spyOn>;

  beforeEach(() => {
    clock = 1_000_000_000_000;
    now = jest.spyOn(Date, 'now').mockImplementation(() => clock);
  });

  afterEach(() => {
    now.mockRestore();
  });

  it('keeps an active entry for TTL + stale time, fresh for the TTL only, and never past exp', async () => {
    const store = new ScriptedStore();
    const cache = new TokenCache('stale', store, { timeToLiveSeconds: 10, staleIfErrorSeconds: 60 });
    await cache.set('long', active({ ...payload, exp: clock / 1000 + 3600 }));
    await cache.set('short', active({ ...payload, exp: clock / 1000 + 30 }));
    await cache.set('capped', active({ ...payload, exp: clock / 1000 + 5 }));
    expect(store.calls.map(({ key, ttl }) => [key, ttl])).toEqual([
      ['long', 70_000],
      ['short', 30_000],
      // exp comes before the TTL runs out: no stale time at all.
      ['capped', 5_000],
    ]);
    expect(cache.servesStale).toBe(true);
    expect(new TokenCache('plain', store, { timeToLiveSeconds: 10 }).servesStale).toBe(false);
  });

  it('past its freshness an entry is a miss for get() and peek(), and stale() serves it until the store drops it', async () => {
    const memory = new MemoryTokenCacheStore(10);
    const cache = new TokenCache('stale', memory, { timeToLiveSeconds: 10, staleIfErrorSeconds: 60 });
    const key = TokenCache.key('as', 'tok');
    await cache.set(key, active(payload));
    expect(cache.peek(key)).toMatchObject({ active: true, payload });
    expect(await cache.stale(key, cache.evictionMark())).toBeUndefined();

    clock += 10_000;
    expect(cache.peek(key)).toBeUndefined();
    expect(await cache.get(key)).toBeUndefined();
    expect(await cache.stale(key, cache.evictionMark())).toMatchObject({ active: true, payload });

    clock += 60_000;
    expect(await cache.stale(key, cache.evictionMark())).toBeUndefined();
  });

  it('past its freshness an entry is a miss by token too', async () => {
    const memory = new MemoryTokenCacheStore(10);
    const cache = new TokenCache('stale', memory, { timeToLiveSeconds: 10, staleIfErrorSeconds: 60 });
    const key = cache.keyOf('as', 'tok');
    await cache.set(key, active(payload));
    cache.peek(key, 'as', 'tok');
    expect(cache.peekToken('as', 'tok')).toMatchObject({ active: true, payload });
    clock += 10_000;
    expect(cache.peekToken('as', 'tok')).toBeUndefined();
    expect(await cache.stale(key, cache.evictionMark())).toMatchObject({ active: true, payload });
  });

  it('serves no stale entry once evicted, nor an inactive one', async () => {
    const store = new ScriptedStore();
    const cache = new TokenCache('stale', store, {
      timeToLiveSeconds: 10,
      negativeTimeToLiveSeconds: 10,
      staleIfErrorSeconds: 60,
    });
    const key = cache.keyOf('as', 'tok');
    const mark = cache.evictionMark();
    await cache.set(key, active(payload));
    await cache.set('inactive', inactive);
    clock += 10_001;
    await cache.evict('as', 'tok');
    expect(await cache.stale(key, mark)).toBeUndefined();
    expect(await cache.stale('inactive', cache.evictionMark())).toBeUndefined();
  });

  it('keeps freshUntil through a store that serializes its values', async () => {
    const store = new ScriptedStore();
    const cache = new TokenCache('stale', store, { timeToLiveSeconds: 10, staleIfErrorSeconds: 60 });
    await cache.set('key', active(payload));
    const [entry] = (await Promise.all([store.get('key')])) as [CachedIntrospection];
    const reread = readEntry(JSON.parse(JSON.stringify(entry)));
    expect(reread).toEqual({ active: true, payload, freshUntil: clock + 10_000 });
  });
});
