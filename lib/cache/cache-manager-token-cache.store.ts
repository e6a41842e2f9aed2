import type { Cache } from 'cache-manager';
import { readEntry } from './cached-introspection';
import type { EntrySeal } from './entry-seal';
import type { CachedIntrospection, TokenCacheStore } from './token-cache-store.interface';

/**
 * A store over a cache-manager `Cache` whose values may be serialized (Redis, a store the
 * application supplies): every key gets the cache's prefix, and every value read back is checked and
 * frozen before anyone trusts it.
 *
 * cache-manager and Keyv swallow many store failures (a failed `get` is reported as an event and
 * answered `undefined`), which would hide an outage as a string of misses. So the store listens to
 * those events, and a call during which one fired rejects with the store's error.
 */
export class CacheManagerTokenCacheStore implements TokenCacheStore {
  private failures = 0;
  private lastFailure: unknown;
  private readonly onGet = (event: { error?: unknown }) => {
    if (event.error !== undefined) {
      this.recordFailure(event.error);
    }
  };
  private readonly onStoreError = (error: unknown) => this.recordFailure(error);

  /**
   * @param cache the cache-manager cache.
   * @param keyPrefix put before every key, to keep this cache's keys apart from others in the store.
   * @param owned whether closing this store disconnects the cache (false for a cache the application
   *   supplied, which it closes itself).
   * @param seal authenticates every value (with `hmacSecret`): one that fails is a miss.
   */
  constructor(
    private readonly cache: Cache,
    private readonly keyPrefix: string,
    private readonly owned: boolean,
    private readonly seal?: EntrySeal,
  ) {
    cache.on('get', this.onGet);
    for (const keyv of cache.stores) {
      keyv.on('error', this.onStoreError);
    }
  }

  async get(key: string): Promise<CachedIntrospection | undefined> {
    const storeKey = this.keyPrefix + key;
    const value = await this.watch(() => this.cache.get<unknown>(storeKey));
    if (value === undefined || value === null) {
      return undefined;
    }
    return this.seal ? this.seal.open(storeKey, value) : readEntry(value);
  }

  async set(key: string, entry: CachedIntrospection, ttlMilliseconds: number): Promise<void> {
    const storeKey = this.keyPrefix + key;
    const value = this.seal ? this.seal.seal(storeKey, entry) : entry;
    await this.watch(() => this.cache.set(storeKey, value, ttlMilliseconds));
  }

  async delete(key: string): Promise<void> {
    await this.watch(() => this.cache.del(this.keyPrefix + key));
  }

  async close(): Promise<void> {
    this.cache.off('get', this.onGet);
    for (const keyv of this.cache.stores) {
      keyv.off('error', this.onStoreError);
    }
    if (this.owned) {
      await this.cache.disconnect();
    }
  }

  /**
   * Runs a call and rejects if a failure was reported while it ran. A failure of a concurrent call
   * may be counted against this one too: the cost is one miss, and only during an outage.
   */
  private async watch<T>(call: () => Promise<T>): Promise<T> {
    const before = this.failures;
    const result = await call();
    if (this.failures !== before) {
      // The store's own error, for its code in the log line; checked by shape, as errors of Node's
      // modules may come from another realm.
      throw typeof this.lastFailure === 'object' && this.lastFailure !== null
        ? this.lastFailure
        : new Error('the cache store failed');
    }
    return result;
  }

  private recordFailure(error: unknown): void {
    this.failures += 1;
    this.lastFailure = error;
  }
}
