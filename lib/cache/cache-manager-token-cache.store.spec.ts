import { jest } from '@jest/globals';
import { createCache } from 'cache-manager';
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { INACTIVE_ENTRY, activeEntry, readEntry } from './cached-introspection';
import { CacheManagerTokenCacheStore } from './cache-manager-token-cache.store';
import { isUserCacheStore, userStoreAsCache } from './user-store';

const MINUTE = 60_000;
const entry = activeEntry(Object.freeze({ active: true, sub: 'alice', scope: 'read', cnf: { 'x5t#S256': 'abc' } }));

/** A Keyv store adapter over a Map that can be made to fail, as a Redis that went away. */
class FlakyAdapter implements KeyvStoreAdapter {
  opts = {};
  namespace?: string;
  readonly map = new Map<string, unknown>();
  failing = false;
  private listeners: Array<(error: unknown) => void> = [];

  async get<T>(key: string): Promise<T | undefined> {
    this.check();
    return this.map.get(key) as T | undefined;
  }
  async set(key: string, value: unknown): Promise<boolean> {
    this.check();
    this.map.set(key, value);
    return true;
  }
  async delete(key: string): Promise<boolean> {
    this.check();
    return this.map.delete(key);
  }
  async clear(): Promise<void> {
    this.map.clear();
  }
  on(event: string, listener: (error: unknown) => void): this {
    if (event === 'error') {
      this.listeners.push(listener);
    }
    return this;
  }
  private check(): void {
    if (this.failing) {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    }
  }
}

describe('readEntry', () => {
  it('freezes an active entry read back from JSON, in depth', () => {
    const read = readEntry(JSON.parse(JSON.stringify(entry)));
    expect(read).toEqual(entry);
    expect(Object.isFrozen(read)).toBe(true);
    const payload = read?.active ? read.payload : undefined;
    expect(Object.isFrozen(payload)).toBe(true);
    expect(Object.isFrozen(payload?.cnf)).toBe(true);
  });

  it('gives the shared inactive entry for an inactive one', () => {
    expect(readEntry({ active: false })).toBe(INACTIVE_ENTRY);
  });

  it.each([
    ['a string', 'hello'],
    ['an array', [1, 2]],
    ['an active entry without payload', { active: true }],
    ['an active entry with a string payload', { active: true, payload: 'x' }],
    ['a bare payload (another format)', { active: 'true', sub: 'alice' }],
  ])('is undefined (a miss) for %s', (_, value) => {
    expect(readEntry(value)).toBeUndefined();
  });

  it('freezes a deeply nested payload without overflowing the stack', () => {
    let nested: Record<string, unknown> = {};
    const root = nested;
    for (let depth = 0; depth < 100_000; depth++) {
      nested.next = {};
      nested = nested.next as Record<string, unknown>;
    }
    expect(readEntry({ active: true, payload: root })?.active).toBe(true);
    expect(Object.isFrozen(nested)).toBe(true);
  });
});

describe('isUserCacheStore', () => {
  it.each([
    ['a cache-manager Cache', createCache()],
    ['a Keyv', new Keyv()],
    ['a Keyv store adapter', new FlakyAdapter()],
  ])('accepts %s', (_, store) => {
    expect(isUserCacheStore(store)).toBe(true);
  });

  it.each([
    ['null', null],
    ['a URL', 'redis://localhost'],
    ['an object without the methods', { get: () => undefined }],
  ])('refuses %s', (_, store) => {
    expect(isUserCacheStore(store)).toBe(false);
  });
});

describe.each([
  ['a cache-manager Cache (memory, unserialized)', () => createCache()],
  ['a Keyv (JSON-serialized)', () => new Keyv()],
  ['a Keyv store adapter', () => new FlakyAdapter()],
] as const)('CacheManagerTokenCacheStore over %s', (_, makeStore) => {
  it('gives back a frozen entry equal to the one set, under the prefixed key', async () => {
    const userStore = makeStore();
    const cache = userStoreAsCache(userStore);
    const store = new CacheManagerTokenCacheStore(cache, 'oauth2:app:', false);
    await store.set('k1', entry, MINUTE);
    await store.set('k2', INACTIVE_ENTRY, MINUTE);
    const read = await store.get('k1');
    expect(read).toEqual(entry);
    expect(Object.isFrozen(read)).toBe(true);
    expect(await store.get('k2')).toBe(INACTIVE_ENTRY);
    expect(await store.get('k3')).toBeUndefined();
    // Under the prefix, not under the bare key.
    expect(await cache.get('oauth2:app:k1')).toBeDefined();
    expect(await cache.get('k1')).toBeUndefined();
    await store.delete('k1');
    expect(await store.get('k1')).toBeUndefined();
    await store.close();
  });

  it('takes a value it did not write as a miss', async () => {
    const cache = userStoreAsCache(makeStore());
    await cache.set('oauth2:app:k1', { some: 'other format' });
    const store = new CacheManagerTokenCacheStore(cache, 'oauth2:app:', false);
    expect(await store.get('k1')).toBeUndefined();
    await store.close();
  });
});

describe('CacheManagerTokenCacheStore failures', () => {
  it('rejects a get, set or delete during which the store failed, though cache-manager swallows a failed get', async () => {
    const adapter = new FlakyAdapter();
    const cache = userStoreAsCache(adapter);
    const store = new CacheManagerTokenCacheStore(cache, 'p:', false);
    await store.set('k', entry, MINUTE);
    adapter.failing = true;
    // cache-manager alone answers a failed read as a miss, which would hide the outage.
    await expect(cache.get('p:k')).resolves.toBeUndefined();
    await expect(store.get('k')).rejects.toThrow('ECONNREFUSED');
    await expect(store.set('k', entry, MINUTE)).rejects.toThrow('ECONNREFUSED');
    await expect(store.delete('k')).rejects.toThrow('ECONNREFUSED');
    adapter.failing = false;
    expect(await store.get('k')).toEqual(entry);
    await store.close();
  });

  it('does not close a cache the application supplied, and stops listening to it', async () => {
    const cache = createCache();
    const disconnect = jest.spyOn(cache, 'disconnect');
    const store = new CacheManagerTokenCacheStore(cache, 'p:', false);
    await store.close();
    expect(disconnect).not.toHaveBeenCalled();
    // No listener of ours is left on the application's cache.
    const off = jest.spyOn(cache, 'off');
    const again = new CacheManagerTokenCacheStore(cache, 'p:', false);
    await again.close();
    expect(off).toHaveBeenCalledWith('get', expect.any(Function));
  });
});
