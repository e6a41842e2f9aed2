import type { OptionalPackageLoader } from '../common/optional-package.loader';
import type { ResolvedOAuth2CacheResourceOptions } from '../interfaces/cache-options.interface';
import { CacheManagerTokenCacheStore } from './cache-manager-token-cache.store';
import { CacheModuleTokenCacheStore, type ProviderLookup } from './cache-module-token-cache.store';
import { EntrySeal } from './entry-seal';
import { MemoryTokenCacheStore } from './memory-token-cache.store';
import { RedisTokenCacheStore } from './redis-token-cache.store';
import { TokenCache } from './token-cache';
import type { TokenCacheStore } from './token-cache-store.interface';
import { userStoreAsCache } from './user-store';

/** What a store may need from the application when it is prepared at start-up. */
export interface TokenCacheStoreContext {
  /** The cache's option path (`caches[1]`), for start-up messages. */
  readonly field: string;
  /** Imports the optional packages a store needs (`@keyv/redis`). */
  readonly packages: OptionalPackageLoader;
  /** Finds the application's provider of a `cache-module` cache. */
  readonly findProvider: ProviderLookup;
}

/**
 * The store of a cache resource, by its `type`. Nothing is imported, found or connected yet: a store
 * that needs to is prepared and opened when the application starts.
 */
export function createTokenCacheStore(
  options: ResolvedOAuth2CacheResourceOptions,
  context: TokenCacheStoreContext,
): TokenCacheStore {
  if (options.type === 'memory') {
    // No MAC in memory: whoever can write there runs in this process, and could as well change the
    // guard; a hit there stays a map read.
    return new MemoryTokenCacheStore(
      options.maxEntries,
      options.timeToIdleSeconds === undefined ? undefined : options.timeToIdleSeconds * 1000,
      options.rememberTokens,
    );
  }
  const seal = options.hmacSecret === undefined ? undefined : new EntrySeal(options.hmacSecret, options.name);
  switch (options.type) {
    case 'redis':
      return new RedisTokenCacheStore({ ...options, field: context.field, seal }, context.packages);
    case 'store':
      // The application's store: this module never closes it.
      return new CacheManagerTokenCacheStore(userStoreAsCache(options.store), options.keyPrefix, false, seal);
    case 'cache-module':
      return new CacheModuleTokenCacheStore({ ...options, field: context.field, seal }, context.findProvider);
  }
}

/** A cache resource from its validated options. */
export function createTokenCache(
  options: ResolvedOAuth2CacheResourceOptions,
  context: TokenCacheStoreContext,
): TokenCache {
  return new TokenCache(options.name, createTokenCacheStore(options, context), {
    timeToLiveSeconds: options.timeToLiveSeconds,
    negativeTimeToLiveSeconds: options.negativeTimeToLiveSeconds,
    hmacSecret: options.hmacSecret,
    timeoutMs: options.type === 'memory' ? undefined : options.timeout,
    staleIfErrorSeconds: options.staleIfErrorSeconds,
    singleFlightTimeoutMs: options.type === 'redis' ? options.singleFlightTimeout : undefined,
  });
}
