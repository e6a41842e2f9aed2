import { KeyvCacheableMemory } from '@cacheable/memory';
import { Cache, createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import type { CachedIntrospection, TokenCacheStore } from './token-cache-store.interface';

/** What Keyv hands its store for each entry when it has no serializer. */
interface KeyvRecord {
  readonly value: CachedIntrospection;
  readonly expires?: number | null;
}

/**
 * An in-process store: cache-manager over a Keyv LRU memory store, bounded to `maxEntries` (the
 * least recently used entry goes first). Entries are kept as the frozen objects they are, neither
 * serialized nor cloned, so a hit costs no JSON parsing; a hit moves the entry in the LRU list but
 * never extends its life.
 */
export class MemoryTokenCacheStore implements TokenCacheStore {
  private readonly memory: KeyvCacheableMemory;
  private readonly cache: Cache;

  constructor(maxEntries: number) {
    // One map rather than the default 16 shards: sharding hashes every key again on each call, and
    // buys nothing for a bounded, single-threaded map.
    this.memory = new KeyvCacheableMemory({ lruSize: maxEntries, useClone: false, storeHashSize: 1 });
    const keyv = new Keyv({ store: this.memory, serialize: undefined, deserialize: undefined, useKeyPrefix: false });
    this.cache = createCache({ stores: [keyv] });
  }

  /** How many entries the store holds, expired ones not yet dropped included. */
  get size(): number {
    return this.memory.store.size;
  }

  async get(key: string): Promise<CachedIntrospection | undefined> {
    return (await this.cache.get<CachedIntrospection>(key)) ?? undefined;
  }

  /**
   * The hot path: the LRU map read directly, past cache-manager's and Keyv's promises. The memory
   * store expires entries itself, and Keyv keeps its `{ value, expires }` record as it is (no
   * serializer), whose `expires` is checked here too.
   */
  peek(key: string): CachedIntrospection | undefined {
    const record = this.memory.store.get<KeyvRecord>(key);
    if (record === undefined || (record.expires !== undefined && record.expires !== null && record.expires <= Date.now())) {
      return undefined;
    }
    return record.value;
  }

  async set(key: string, entry: CachedIntrospection, ttlMilliseconds: number): Promise<void> {
    await this.cache.set(key, entry, ttlMilliseconds);
  }

  async delete(key: string): Promise<void> {
    await this.cache.del(key);
  }

  async close(): Promise<void> {
    await this.cache.disconnect();
  }
}
