import { Logger } from '@nestjs/common';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import { MemoryTokenCacheStore } from './memory-token-cache.store';
import type { TokenCacheStore } from './token-cache-store.interface';
import { TokenCache } from './token-cache';

/** A store that is down (Redis unreachable, say): every call fails. */
class FailingStore implements TokenCacheStore {
  calls = 0;

  async get(): Promise<IntrospectionPayload | undefined> {
    this.calls++;
    throw new Error('connection refused');
  }

  async set(): Promise<void> {
    this.calls++;
    throw new Error('connection refused');
  }

  async delete(): Promise<void> {
    throw new Error('connection refused');
  }

  async close(): Promise<void> {}
}

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

  it('is a SHA-256 digest in base64url', () => {
    expect(TokenCache.key('as', 'token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
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
  const payload: IntrospectionPayload = Object.freeze({ active: true, client_id: 'app', scope: 'a' });
  let store: MemoryTokenCacheStore;
  let cache: TokenCache;

  beforeEach(() => {
    store = new MemoryTokenCacheStore(100);
    cache = new TokenCache('local', store, 300);
  });
  afterEach(() => cache.close());

  it('keeps a payload under its key and gives it back', async () => {
    const key = TokenCache.key('as', 'tok');
    await cache.set(key, payload);
    expect(await cache.get(key)).toEqual(payload);
    expect(await cache.get(TokenCache.key('as', 'other'))).toBeUndefined();
  });

  it('does not keep a payload whose token has expired', async () => {
    const key = TokenCache.key('as', 'tok');
    await cache.set(key, { ...payload, exp: Date.now() / 1000 - 10 });
    expect(await store.get(key)).toBeUndefined();
  });

  it('does not keep a payload with an unreadable exp', async () => {
    const key = TokenCache.key('as', 'tok');
    await cache.set(key, { ...payload, exp: 'soon' });
    expect(await store.get(key)).toBeUndefined();
  });

  it('evicts a token at a resource, and only there', async () => {
    const here = TokenCache.key('as', 'tok');
    const there = TokenCache.key('other-as', 'tok');
    await cache.set(here, payload);
    await cache.set(there, payload);
    await cache.evict('as', 'tok');
    expect(await cache.get(here)).toBeUndefined();
    expect(await cache.get(there)).toEqual(payload);
  });

  describe('over a failing store', () => {
    let warn: jest.SpyInstance;

    beforeEach(() => {
      warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    });
    afterEach(() => warn.mockRestore());

    it('takes a failed get as a miss', async () => {
      const failing = new FailingStore();
      await expect(new TokenCache('shared', failing, 300).get('key')).resolves.toBeUndefined();
      expect(failing.calls).toBe(1);
    });

    it('never throws from set', async () => {
      const failing = new FailingStore();
      await expect(new TokenCache('shared', failing, 300).set('key', payload)).resolves.toBeUndefined();
      expect(failing.calls).toBe(1);
    });

    it('warns once while it keeps failing, without the token or key', async () => {
      const failing = new TokenCache('shared', new FailingStore(), 300);
      const key = TokenCache.key('as', 'the-token');
      await failing.get(key);
      await failing.set(key, payload);
      await failing.get(key);
      expect(warn).toHaveBeenCalledTimes(1);
      const [message] = warn.mock.calls[0] as [string];
      expect(message).toContain("cache 'shared'");
      expect(message).not.toContain('the-token');
      expect(message).not.toContain(key);
    });
  });
});
