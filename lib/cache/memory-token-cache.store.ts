import { KeyvCacheableMemory } from '@cacheable/memory';
import { Cache, createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import type { TokenCacheStore } from './token-cache-store.interface';

/**
 * An in-process store: cache-manager over a Keyv LRU memory store, bounded to `maxEntries` (the
 * least recently used entry goes first). Payloads are kept as the frozen objects they are, neither
 * serialized nor cloned, so a hit costs no JSON parsing.
 */
export class MemoryTokenCacheStore implements TokenCacheStore {
  private readonly cache: Cache;

  constructor(maxEntries: number) {
    const store = new KeyvCacheableMemory({ lruSize: maxEntries, useClone: false });
    const keyv = new Keyv({ store, serialize: undefined, deserialize: undefined, useKeyPrefix: false });
    this.cache = createCache({ stores: [keyv] });
  }

  async get(key: string): Promise<IntrospectionPayload | undefined> {
    return (await this.cache.get<IntrospectionPayload>(key)) ?? undefined;
  }

  async set(key: string, payload: IntrospectionPayload, ttlMilliseconds: number): Promise<void> {
    await this.cache.set(key, payload, ttlMilliseconds);
  }

  async delete(key: string): Promise<void> {
    await this.cache.del(key);
  }

  async close(): Promise<void> {
    await this.cache.disconnect();
  }
}
