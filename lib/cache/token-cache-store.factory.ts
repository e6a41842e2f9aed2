import type { ResolvedOAuth2CacheResourceOptions } from '../interfaces/cache-options.interface';
import { CacheManagerTokenCacheStore } from './cache-manager-token-cache.store';
import { MemoryTokenCacheStore } from './memory-token-cache.store';
import { RedisTokenCacheStore } from './redis-token-cache.store';
import { TokenCache } from './token-cache';
import type { TokenCacheStore } from './token-cache-store.interface';
import { userStoreAsCache } from './user-store';

/** The store of a cache resource, by its `type`. */
export function createTokenCacheStore(options: ResolvedOAuth2CacheResourceOptions): TokenCacheStore {
  switch (options.type) {
    case 'memory':
      return new MemoryTokenCacheStore(options.maxEntries);
    case 'redis':
      return new RedisTokenCacheStore(options);
    case 'store':
      // The application's store: this module never closes it.
      return new CacheManagerTokenCacheStore(userStoreAsCache(options.store), options.keyPrefix, false);
  }
}

/** A cache resource from its validated options. */
export function createTokenCache(options: ResolvedOAuth2CacheResourceOptions): TokenCache {
  return new TokenCache(options.name, createTokenCacheStore(options), {
    timeToLiveSeconds: options.timeToLiveSeconds,
    negativeTimeToLiveSeconds: options.negativeTimeToLiveSeconds,
    hmacSecret: options.hmacSecret,
    timeoutMs: options.type === 'memory' ? undefined : options.timeout,
  });
}
