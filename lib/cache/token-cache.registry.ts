import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { OAUTH2_RESOLVED_OPTIONS } from '../oauth2.constants';
import type { ResolvedOAuth2ModuleOptions } from '../options/validate-options';
import { MemoryTokenCacheStore } from './memory-token-cache.store';
import { TokenCache } from './token-cache';

/**
 * The registered cache resources, by name. Inject it to drop a revoked token from a cache at once.
 *
 * @example
 * await caches.evict(revokedToken);
 */
@Injectable()
export class TokenCacheRegistry implements OnApplicationShutdown {
  private readonly caches = new Map<string, TokenCache>();
  private readonly resourceNames: readonly string[];

  constructor(@Inject(OAUTH2_RESOLVED_OPTIONS) options: ResolvedOAuth2ModuleOptions) {
    this.resourceNames = options.resources.map((resource) => resource.name);
    for (const cache of options.caches) {
      this.caches.set(cache.name, new TokenCache(cache.name, new MemoryTokenCacheStore(cache.maxEntries), cache.timeToLiveSeconds));
    }
  }

  /**
   * The cache registered under a name.
   *
   * @throws Error naming the registered caches when there is none by that name.
   */
  get(name: string): TokenCache {
    const cache = this.caches.get(name);
    if (!cache) {
      throw new Error(`No OAuth2 cache named '${name}' (registered: ${this.names().join(', ') || 'none'})`);
    }
    return cache;
  }

  /** The cache registered under a name, or `undefined`. */
  find(name: string): TokenCache | undefined {
    return this.caches.get(name);
  }

  /** The registered names. */
  names(): string[] {
    return [...this.caches.keys()];
  }

  /**
   * Drops a token from every cache, for every resource, so that a revoked token is refused at once
   * rather than when its entry expires.
   */
  async evict(token: string): Promise<void> {
    const evictions = [...this.caches.values()].flatMap((cache) =>
      this.resourceNames.map((resourceName) => cache.evict(resourceName, token)),
    );
    await Promise.all(evictions);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.caches.values()].map((cache) => cache.close()));
  }
}
