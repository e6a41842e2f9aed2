import { Injectable, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { OptionalPackageLoader } from '../common/optional-package.loader';
import type { ResolvedOAuth2ModuleOptions } from '../options/resolved-options';
import { TokenCache } from './token-cache';
import { TokenCacheEvictionError } from './token-cache-eviction.error';
import { createTokenCache } from './token-cache-store.factory';
import { InjectOAuth2Options } from '../decorators/inject-oauth2-options.decorator';

/** Where {@link TokenCacheRegistry.evict} drops a token. */
export interface TokenCacheEvictOptions {
  /** Only the entry of this resource. Default: every resource's. */
  resource?: string;
  /** Only in this cache. Default: every cache. */
  cache?: string;
}

/**
 * The registered cache resources, by name. Inject it to drop a revoked token from the caches at once,
 * rather than when its entries expire.
 *
 * @example
 * @Post('revocations')
 * async revoked(@Body() body: { token: string }) {
 *   await this.caches.evict(body.token); // every cache, every resource
 * }
 */
@Injectable()
export class TokenCacheRegistry implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly caches = new Map<string, TokenCache>();
  private readonly resourceNames: readonly string[];

  constructor(
    @InjectOAuth2Options() options: ResolvedOAuth2ModuleOptions,
    moduleRef: ModuleRef,
    packages: OptionalPackageLoader,
  ) {
    this.resourceNames = options.resources.map((resource) => resource.name);
    // Any module's provider, as an application's CacheModule is usually imported beside this one.
    const findProvider = (token: string | symbol): unknown => moduleRef.get(token, { strict: false });
    options.caches.forEach((cache, index) => {
      this.caches.set(cache.name, createTokenCache(cache, { field: `caches[${index}]`, packages, findProvider }));
    });
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
   * Drops a token from the caches, for every resource (or those `scope` names), so that a revoked
   * token is refused at once: its next request is introspected again. Every cache is tried, even
   * when one fails.
   *
   * With a shared (Redis) cache, one call evicts for every instance. Evict after the authorization
   * server has revoked the token, so that no introspection under way caches it again.
   *
   * @throws TokenCacheEvictionError naming the caches that could not drop it (the token may still be
   *   served from them until its entry expires: retry).
   * @throws Error for a `scope` naming no registered resource or cache.
   */
  async evict(token: string, scope: TokenCacheEvictOptions = {}): Promise<void> {
    if (typeof token !== 'string' || token === '') {
      throw new TypeError('evict() needs the token, a non-empty string');
    }
    const caches = scope.cache === undefined ? [...this.caches.values()] : [this.get(scope.cache)];
    if (scope.resource !== undefined && !this.resourceNames.includes(scope.resource)) {
      throw new Error(`No OAuth2 resource named '${scope.resource}' (registered: ${this.resourceNames.join(', ')})`);
    }
    const resourceNames = scope.resource === undefined ? this.resourceNames : [scope.resource];
    const failures: Array<{ cache: string; error: unknown }> = [];
    await Promise.all(
      caches.map(async (cache) => {
        try {
          await Promise.all(resourceNames.map((resourceName) => cache.evict(resourceName, token)));
        } catch (error) {
          failures.push({ cache: cache.name, error });
        }
      }),
    );
    if (failures.length > 0) {
      throw new TokenCacheEvictionError(
        failures.map((failure) => failure.cache),
        failures.map((failure) => failure.error),
      );
    }
  }

  /**
   * Prepares the caches that need it: imports `@keyv/redis` for a `redis` cache, finds the
   * application's cache for a `cache-module` one. Here rather than in the constructor because the
   * import is asynchronous and the application's cache may not exist before every provider does;
   * at start-up rather than on a first request, so that no request waits for it.
   *
   * @throws OAuth2ConfigurationError, stopping the start, when a package is not installed or the
   *   application has no such cache (the first such cache, in the order of `caches`).
   */
  async onModuleInit(): Promise<void> {
    const outcomes = await Promise.allSettled([...this.caches.values()].map((cache) => cache.prepare()));
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure) {
      throw failure.reason;
    }
  }

  /**
   * Connects the caches that have a connection (Redis) when the application has started. A cache
   * that cannot connect does not stop the start: it is a miss, logged once, until it can.
   */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([...this.caches.values()].map((cache) => cache.open()));
  }

  /** Closes the caches' connections (a store the application supplied is left to it). */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.caches.values()].map((cache) => cache.close()));
  }
}
