import type { Cache } from 'cache-manager';
import type { Keyv, KeyvStoreAdapter } from 'keyv';
import type { RedisClusterOptions, RedisSentinelOptions } from './redis-topology-options.interface';

/** The options every cache resource has, whatever keeps its entries. */
export interface CacheResourceCommonOptions {
  /** The name the policy refers to in `oauthCacheResource`. Unique among caches. */
  name: string;
  /**
   * Longest life of an entry, in seconds (1 to 86400); an entry never outlives its token's `exp`
   * either. Default 300.
   */
  timeToLiveSeconds?: number;
  /**
   * Keep "this token is not active" answers too, for this many seconds (1 to 3600), so that a flood
   * of invalid tokens reaches the authorization server once per token and period. Default: inactive
   * answers are not kept.
   */
  negativeTimeToLiveSeconds?: number;
  /**
   * A secret (at least 16 characters) that turns the entry keys from SHA-256 digests into
   * HMAC-SHA-256 ones, so that whoever reads the store cannot even check a guessed token against it.
   * In a shared store (`redis`, `store`, `cache-module`) it also seals every value with a MAC over its
   * key and value, so that an entry written or altered by anyone without the secret is a miss.
   * Every instance sharing a store needs the same secret. Default: SHA-256 keys, unsealed values.
   */
  hmacSecret?: string;
  /**
   * Stale-if-error: keep an active token's entry this many seconds (1 to 3600) past its
   * `timeToLiveSeconds`, and serve it while the authorization server is unavailable (no answer, a
   * 5xx, an open circuit). `exp`, `nbf` and scopes are still checked; an inactive answer is never
   * served stale. Default: off.
   */
  staleIfErrorSeconds?: number;
}

/** A cache resource kept in this process's memory. */
export interface MemoryCacheResourceOptions extends CacheResourceCommonOptions {
  /** Default `memory`. */
  type?: 'memory';
  /**
   * Most entries kept. When the cache is full, an entry not read since it last came up for eviction
   * goes first (CLOCK, the usual approximation of least recently used). Default 10000.
   */
  maxEntries?: number;
  /**
   * Drop an entry not read for this many seconds (Gravitee's `timeToIdleSeconds`), at most
   * `timeToLiveSeconds`: an entry never outlives its TTL or its token's `exp` either way. Default:
   * entries live until their TTL, read or not.
   */
  timeToIdleSeconds?: number;
  /**
   * Keep the token of an entry beside it, in this process's memory, from the entry's first hit on, so
   * that later requests with that token find it without hashing the token (the largest cost of a hit
   * otherwise). One token per entry, gone with its entry. `false` keeps no raw token past its request,
   * at the price of a SHA-256 per hit. Default true.
   */
  rememberTokens?: boolean;
}

/**
 * TLS settings of a `rediss://` connection; the URL's scheme turns TLS on, these only tune it. The
 * names are those of a resource's `tls` option. Values are PEM texts, not file paths.
 */
export interface RedisTlsOptions {
  /** CA certificates to trust for the Redis server, replacing Node's default list. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate (chain), for mutual TLS. Needs `key`. */
  cert?: string | Buffer;
  /** The private key of `cert`. */
  key?: string | Buffer;
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
  /** Server name for SNI and the certificate check, when it differs from the URL's host. */
  servername?: string;
  /**
   * DANGER: accept any server certificate, unverified; anyone on the path could then serve forged
   * cache entries. Local development only; logged as a warning at start-up. Default false.
   */
  insecureSkipVerify?: boolean;
}

/**
 * A cache resource in Redis, shared by every application instance that points at the same Redis
 * with the same `keyPrefix`. Connection problems never fail a request: the cache is then a miss.
 * Needs the package `@keyv/redis` (an optional peer dependency, loaded at start-up only when a
 * `redis` cache is configured).
 */
export interface RedisCacheResourceOptions extends CacheResourceCommonOptions {
  type: 'redis';
  /**
   * A single node: `redis://[[user]:password@]host[:port][/database]`, or `rediss://...` for TLS.
   * Exactly one of `url`, `cluster` and `sentinel`.
   */
  url?: string;
  /** A Redis Cluster, instead of `url`. */
  cluster?: RedisClusterOptions;
  /** A primary managed by Redis Sentinel, instead of `url`. */
  sentinel?: RedisSentinelOptions;
  /** ACL user name, unless the URL has one. */
  username?: string;
  /** Password, unless the URL has one. */
  password?: string;
  /**
   * TLS settings; with `url`, needs a `rediss://` URL. With `cluster` or `sentinel`, their presence
   * turns TLS on (for the Sentinels too).
   */
  tls?: RedisTlsOptions;
  /**
   * Prefix of every key this cache writes. Default `oauth2:<name>:`. Applications that share a
   * Redis but not an authorization server must use different prefixes (or different `hmacSecret`s).
   */
  keyPrefix?: string;
  /** Time limit of one cache call, in milliseconds (1 to 60000); past it the call is a miss. Default 250. */
  timeout?: number;
  /** Time limit of one connection attempt, in milliseconds (1 to 60000). Default 1000. */
  connectTimeout?: number;
  /**
   * Fleet-wide single flight: instances that miss the same token at the same moment introspect it
   * once in all. The first takes a short lock in Redis and introspects; the others wait for its
   * answer in Redis, at most `singleFlightTimeout`, then introspect themselves. Default true.
   */
  singleFlight?: boolean;
  /**
   * Longest wait, in milliseconds (10 to 60000), for another instance's introspection of the same
   * token; also the life of the lock, so a lock holder that dies delays no one longer. Default 1000.
   */
  singleFlightTimeout?: number;
}

/**
 * A cache resource kept in a store the application already has: a cache-manager `Cache` (such as
 * `@nestjs/cache-manager`'s `CACHE_MANAGER`), a `Keyv` instance, or a Keyv store adapter. The
 * application owns it: the module does not close it.
 */
export interface StoreCacheResourceOptions extends CacheResourceCommonOptions {
  type: 'store';
  /** The store. Values written to it are plain JSON-compatible objects. */
  store: Cache | Keyv | KeyvStoreAdapter;
  /** Prefix of every key this cache writes, to keep them apart from the store's other keys. Default `oauth2:<name>:`. */
  keyPrefix?: string;
  /** Time limit of one cache call, in milliseconds (1 to 60000); past it the call is a miss. Default 250. */
  timeout?: number;
}

/**
 * A cache resource kept in the application's own Nest cache: the provider that
 * `@nestjs/cache-manager`'s `CacheModule` registers (`CACHE_MANAGER`), or any provider holding a
 * cache-manager `Cache`, a `Keyv` or a Keyv store adapter. It is found when the application starts,
 * so `forRoot()` needs no `inject`; the application owns it: the module does not close it.
 *
 * @example
 * imports: [
 *   CacheModule.register({ isGlobal: true }),
 *   OAuth2Module.forRoot({ ..., caches: [{ name: 'app', type: 'cache-module' }] }),
 * ]
 */
export interface CacheModuleCacheResourceOptions extends CacheResourceCommonOptions {
  type: 'cache-module';
  /**
   * The token of the application's cache provider. Default `'CACHE_MANAGER'`, the value of
   * `@nestjs/cache-manager`'s `CACHE_MANAGER`.
   */
  injectionToken?: string | symbol;
  /** Prefix of every key this cache writes, to keep them apart from the cache's other keys. Default `oauth2:<name>:`. */
  keyPrefix?: string;
  /** Time limit of one cache call, in milliseconds (1 to 60000); past it the call is a miss. Default 250. */
  timeout?: number;
}

/** One cache resource, by its `type`. */
export type OAuth2CacheResourceOptions =
  MemoryCacheResourceOptions | RedisCacheResourceOptions | StoreCacheResourceOptions | CacheModuleCacheResourceOptions;

/** What every cache resource has after validation, defaults applied. */
interface ResolvedCacheResourceCommon {
  readonly name: string;
  readonly timeToLiveSeconds: number;
  readonly negativeTimeToLiveSeconds?: number;
  readonly hmacSecret?: string;
  readonly staleIfErrorSeconds?: number;
}

/** A cache resource after validation, defaults applied: what the module builds its caches from. */
export type ResolvedOAuth2CacheResourceOptions =
  | (ResolvedCacheResourceCommon & {
      readonly type: 'memory';
      readonly maxEntries: number;
      readonly timeToIdleSeconds?: number;
      readonly rememberTokens: boolean;
    })
  | (ResolvedCacheResourceCommon & {
      readonly type: 'redis';
      readonly url?: string;
      readonly cluster?: RedisClusterOptions;
      readonly sentinel?: RedisSentinelOptions;
      readonly username?: string;
      readonly password?: string;
      readonly tls?: RedisTlsOptions;
      readonly keyPrefix: string;
      readonly timeout: number;
      readonly connectTimeout: number;
      /** The single flight's wait (and lock life) in milliseconds; absent when it is off. */
      readonly singleFlightTimeout?: number;
    })
  | (ResolvedCacheResourceCommon & {
      readonly type: 'store';
      readonly store: Cache | Keyv | KeyvStoreAdapter;
      readonly keyPrefix: string;
      readonly timeout: number;
    })
  | (ResolvedCacheResourceCommon & {
      readonly type: 'cache-module';
      readonly injectionToken: string | symbol;
      readonly keyPrefix: string;
      readonly timeout: number;
    });
