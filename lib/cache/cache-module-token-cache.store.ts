import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { DEFAULT_CACHE_MODULE_TOKEN } from '../oauth2.constants';
import { CacheManagerTokenCacheStore } from './cache-manager-token-cache.store';
import type { EntrySeal } from './entry-seal';
import type { CachedIntrospection, TokenCacheStore } from './token-cache-store.interface';
import { type UserCacheStore, isUserCacheStore, userStoreAsCache } from './user-store';

/**
 * Finds one of the application's providers by token, as `ModuleRef.get(token, { strict: false })`
 * does; throws when there is none, or when it cannot be had outside a request.
 */
export type ProviderLookup = (token: string | symbol) => unknown;

/** Which provider a {@link CacheModuleTokenCacheStore} uses, and how. */
export interface CacheModuleTokenCacheStoreOptions {
  /** The cache resource's name, for messages. */
  readonly name: string;
  /** The cache's option path (`caches[1]`), for start-up messages. */
  readonly field: string;
  /** The token of the application's cache provider. */
  readonly injectionToken: string | symbol;
  /** Put before every key. */
  readonly keyPrefix: string;
  /** Authenticates every value (with `hmacSecret`). */
  readonly seal?: EntrySeal;
}

/**
 * A store in the application's own Nest cache (`@nestjs/cache-manager`'s `CACHE_MANAGER`, or another
 * provider holding a cache), found by {@link prepare} once every provider exists: `forRoot()` can
 * name it without `inject`, and this module does not import `@nestjs/cache-manager`. It is used as a
 * `store` cache uses its store, and the application owns it: closing this store leaves it open.
 */
export class CacheModuleTokenCacheStore implements TokenCacheStore {
  private store?: CacheManagerTokenCacheStore;

  /**
   * @param options which provider, and the key prefix.
   * @param findProvider looks the provider up.
   */
  constructor(
    private readonly options: CacheModuleTokenCacheStoreOptions,
    private readonly findProvider: ProviderLookup,
  ) {}

  /**
   * Finds the application's cache.
   *
   * @throws OAuth2ConfigurationError when there is no provider under the token, or when it holds no
   *   cache: the message says what to import or register.
   */
  async prepare(): Promise<void> {
    if (this.store) {
      return;
    }
    const cache = this.applicationCache();
    this.store = new CacheManagerTokenCacheStore(
      userStoreAsCache(cache),
      this.options.keyPrefix,
      false,
      this.options.seal,
    );
  }

  async get(key: string): Promise<CachedIntrospection | undefined> {
    return this.prepared().get(key);
  }

  async set(key: string, entry: CachedIntrospection, ttlMilliseconds: number): Promise<void> {
    return this.prepared().set(key, entry, ttlMilliseconds);
  }

  async delete(key: string): Promise<void> {
    return this.prepared().delete(key);
  }

  /** Stops listening to the application's cache; never closes it. */
  async close(): Promise<void> {
    await this.store?.close();
  }

  private applicationCache(): UserCacheStore {
    const { field, injectionToken } = this.options;
    const isDefault = injectionToken === DEFAULT_CACHE_MODULE_TOKEN;
    const token = typeof injectionToken === 'symbol' ? injectionToken.toString() : `'${injectionToken}'`;
    // Named by the field the user wrote; a default they did not write is named by the cache.
    const where = isDefault ? field : `${field}.injectionToken`;
    const subject = isDefault
      ? `(type 'cache-module') uses the provider ${token}, which`
      : `is ${token}, whose provider`;
    let found: unknown;
    try {
      found = this.findProvider(injectionToken);
    } catch (error) {
      // Checked by name: the class is not part of @nestjs/core's public exports.
      if ((error as { constructor?: { name?: unknown } } | null)?.constructor?.name === 'InvalidClassScopeException') {
        throw new OAuth2ConfigurationError(
          where,
          `${subject} is request- or transient-scoped: a cache must be a default-scoped (singleton) provider.`,
        );
      }
      throw new OAuth2ConfigurationError(
        where,
        isDefault
          ? `(type 'cache-module') finds no provider ${token} in the application: import CacheModule.register({ isGlobal: true }) ` +
              'from @nestjs/cache-manager, or set injectionToken to the token of the cache provider you have.'
          : `is ${token}, which no provider of the application is registered under: register your cache under it, or ` +
              'import CacheModule.register({ isGlobal: true }) from @nestjs/cache-manager and leave injectionToken out.',
      );
    }
    if (!isUserCacheStore(found)) {
      throw new OAuth2ConfigurationError(
        where,
        `${subject} is not a cache (got ${found === null ? 'null' : typeof found}): it must be a cache-manager Cache ` +
          '(CacheModule.register() from @nestjs/cache-manager provides one), a Keyv instance, or a Keyv store adapter.',
      );
    }
    return found;
  }

  /** The store, once {@link prepare} has found it; a call before is a failure (a miss). */
  private prepared(): CacheManagerTokenCacheStore {
    if (!this.store) {
      throw new Error(`cache '${this.options.name}' is not prepared`);
    }
    return this.store;
  }
}
