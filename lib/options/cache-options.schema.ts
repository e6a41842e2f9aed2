import {
  Allow,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { isUserCacheStore } from '../cache/user-store';
import type {
  OAuth2CacheResourceOptions,
  ResolvedOAuth2CacheResourceOptions,
} from '../interfaces/cache-options.interface';
import { DEFAULT_CACHE_MODULE_TOKEN } from '../oauth2.constants';
import { isJsonObject } from '../common/is-json-object';
import { type OptionProblem, describeValue, duplicateNameProblems, schemaProblems } from './option-problem';
import { staleIfErrorProblems } from './stale-if-error.options';
import { REDIS_TLS_OPTION_NAMES, redisTlsProblems } from './tls-options';
import { redisTopologyProblems, resolveRedisTopology } from './redis-topology-options';
import { IsRequired } from './validation-decorators';

/** Default longest life of an entry, in seconds. */
export const DEFAULT_CACHE_TTL_SECONDS = 300;
/** Default bound of a memory cache. */
export const DEFAULT_MAX_ENTRIES = 10_000;
/**
 * Default time limit of one call to a Redis or user-supplied store, in milliseconds: far above a
 * healthy store's sub-millisecond answers, short enough that a stuck store costs little per request.
 */
export const DEFAULT_CACHE_TIMEOUT_MS = 250;
/** Default time limit of one Redis connection attempt, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1000;

/** Validation rules of the options every cache resource has. */
abstract class CacheCommonSchema {
  @IsRequired() @IsString() @IsNotEmpty() name!: string;
  /** Finite by design: an entry that never expires would outlive revocations. */
  @IsOptional() @IsInt() @Min(1) @Max(86_400) timeToLiveSeconds?: number;
  /** Bounded: a long negative TTL would refuse, for that long, a token the server has just made valid. */
  @IsOptional() @IsInt() @Min(1) @Max(3600) negativeTimeToLiveSeconds?: number;
  /** Long enough to resist guessing; never echoed in messages (its name contains "secret"). */
  @IsOptional() @IsString() @MinLength(16) hmacSecret?: string;
  /** Checked by staleIfErrorProblems(). */
  @Allow() staleIfErrorSeconds?: unknown;
}

/** Validation rules of a `memory` cache resource. */
export class MemoryCacheSchema extends CacheCommonSchema {
  @IsOptional() @IsIn(['memory']) type?: string;
  /** The bound that keeps a spray of random tokens from growing the process. */
  @IsOptional() @IsInt() @Min(1) @Max(16_000_000) maxEntries?: number;
  /** Checked against the TTL by memoryCacheProblems(). */
  @IsOptional() @IsInt() @Min(1) @Max(86_400) timeToIdleSeconds?: number;
  @IsOptional() @IsBoolean() rememberTokens?: boolean;
}

/**
 * Problems of a `memory` cache beyond its schema: a `timeToIdleSeconds` above the TTL would never
 * apply (the entry goes at its TTL first), which is a misunderstanding worth stopping the start for.
 */
export function memoryCacheProblems(cache: Record<string, unknown>, field: string): OptionProblem[] {
  const idle = cache.timeToIdleSeconds;
  const ttl = cache.timeToLiveSeconds ?? DEFAULT_CACHE_TTL_SECONDS;
  if (typeof idle === 'number' && typeof ttl === 'number' && Number.isInteger(idle) && idle > ttl) {
    return [
      {
        field: `${field}.timeToIdleSeconds`,
        problem: `is ${idle}, more than timeToLiveSeconds (${ttl}): an entry goes at its TTL first, so it would never apply. Lower it, or raise timeToLiveSeconds.`,
      },
    ];
  }
  return [];
}

/**
 * Validation rules of a `redis` cache resource. `url` and `tls` are checked by hand, outside this
 * schema: a URL may carry a password that a generic message would echo, and TLS settings hold
 * Buffers that class-transformer would copy apart.
 */
export class RedisCacheSchema extends CacheCommonSchema {
  @IsRequired() @IsIn(['redis']) type!: string;
  /** `url`, `cluster` and `sentinel` (one of them required): redisTopologyProblems(). */
  @Allow() url?: unknown;
  @Allow() cluster?: unknown;
  @Allow() sentinel?: unknown;
  @IsOptional() @IsBoolean() singleFlight?: boolean;
  @IsOptional() @IsInt() @Min(10) @Max(60_000) singleFlightTimeout?: number;
  @IsOptional() @IsString() @IsNotEmpty() username?: string;
  @IsOptional() @IsString() password?: string;
  @Allow() tls?: unknown;
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) keyPrefix?: string;
  @IsOptional() @IsInt() @Min(1) @Max(60_000) timeout?: number;
  @IsOptional() @IsInt() @Min(1) @Max(60_000) connectTimeout?: number;
}

/**
 * Validation rules of a `store` cache resource. `store` is checked by hand: it is a live object
 * (with cycles) that class-transformer must not copy.
 */
export class StoreCacheSchema extends CacheCommonSchema {
  @IsRequired() @IsIn(['store']) type!: string;
  @IsRequired() store!: unknown;
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) keyPrefix?: string;
  @IsOptional() @IsInt() @Min(1) @Max(60_000) timeout?: number;
}

/**
 * Validation rules of a `cache-module` cache resource. `injectionToken` is checked by hand: it may
 * be a symbol, which the generic checks do not take.
 */
export class CacheModuleCacheSchema extends CacheCommonSchema {
  @IsRequired() @IsIn(['cache-module']) type!: string;
  @Allow() injectionToken?: unknown;
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) keyPrefix?: string;
  @IsOptional() @IsInt() @Min(1) @Max(60_000) timeout?: number;
}

/** Problems of the `caches` option: each cache checked by its type's schema and its own checks, and no name twice. */
export function cachesProblems(raw: unknown): OptionProblem[] {
  if (raw === undefined) {
    return [];
  }
  if (!Array.isArray(raw)) {
    return [{ field: 'caches', problem: "must be an array, e.g. [{ name: 'local', timeToLiveSeconds: 300 }]." }];
  }
  const problems: OptionProblem[] = [];
  raw.forEach((cache, index) => {
    const field = `caches[${index}]`;
    problems.push(...staleIfErrorProblems(cache, field));
    if (!isJsonObject(cache)) {
      problems.push({ field, problem: 'must be an object.' });
    } else if (cache.type === undefined || cache.type === 'memory') {
      problems.push(...schemaProblems(MemoryCacheSchema, cache, field, "an option of a 'memory' cache"));
      problems.push(...memoryCacheProblems(cache, field));
    } else if (cache.type === 'redis') {
      problems.push(
        ...schemaProblems(RedisCacheSchema, presenceOnly(cache, ['url', 'tls']), field, "an option of a 'redis' cache"),
      );
      problems.push(...redisConnectionProblems(cache, field));
      problems.push(...redisTopologyProblems(cache, field));
    } else if (cache.type === 'store') {
      problems.push(
        ...schemaProblems(StoreCacheSchema, presenceOnly(cache, ['store']), field, "an option of a 'store' cache"),
      );
      problems.push(...storeProblems(cache.store, `${field}.store`));
    } else if (cache.type === 'cache-module') {
      problems.push(
        ...schemaProblems(
          CacheModuleCacheSchema,
          presenceOnly(cache, ['injectionToken']),
          field,
          "an option of a 'cache-module' cache",
        ),
      );
      problems.push(...injectionTokenProblems(cache.injectionToken, `${field}.injectionToken`));
    } else {
      problems.push({
        field: `${field}.type`,
        problem: `must be 'memory', 'redis', 'store' or 'cache-module' (got ${describeValue(cache.type)}).`,
      });
    }
  });
  problems.push(...duplicateNameProblems(raw, 'caches'));
  return problems;
}

/**
 * The options with live or secret-bearing values (`url`, `tls`, `store`) replaced by `true`: the
 * schema then checks only that they are there, and they are checked by hand, without being copied
 * by class-transformer or quoted in a message.
 */
export function presenceOnly(raw: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const copy = { ...raw };
  for (const name of names) {
    if (copy[name] !== undefined) {
      copy[name] = true;
    }
  }
  return copy;
}

/** Problems with a `redis` cache's `url` and `tls`. Never quotes the URL: it may hold a password. */
export function redisConnectionProblems(cache: Record<string, unknown>, field: string): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const url = typeof cache.url === 'string' ? parseUrl(cache.url) : undefined;
  const example = 'e.g. redis://localhost:6379, rediss://cache.internal:6380/1, or redis://:password@host:6379';
  if (cache.url === undefined) {
    // "is required", or a cluster or Sentinel: redisTopologyProblems(); the TLS settings are checked here.
  } else if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    problems.push({ field: `${field}.url`, problem: `must be a redis:// or rediss:// (TLS) URL, ${example}.` });
  } else if (!/^\/?(\d+)?$/.test(url.pathname)) {
    problems.push({
      field: `${field}.url`,
      problem: 'has a path that is not a database number: use /<number>, e.g. redis://host:6379/1.',
    });
  }
  const tls = cache.tls;
  if (tls === undefined) {
    return problems;
  }
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) {
    problems.push({
      field: `${field}.tls`,
      problem: `must be an object with TLS settings (${REDIS_TLS_OPTION_NAMES.join(', ')}).`,
    });
    return problems;
  }
  if (url && url.protocol === 'redis:') {
    problems.push({
      field: `${field}.tls`,
      problem: 'is set, but url is redis://, which connects without TLS: use a rediss:// URL.',
    });
  }
  problems.push(...redisTlsProblems(tls as Record<string, unknown>, `${field}.tls`));
  return problems;
}

/** Problems with the store of a `store` cache. */
export function storeProblems(store: unknown, field: string): OptionProblem[] {
  if (store === undefined || isUserCacheStore(store)) {
    return [];
  }
  return [
    {
      field,
      problem:
        "must be a cache-manager Cache (createCache(), or @nestjs/cache-manager's CACHE_MANAGER), a Keyv instance, " +
        `or a Keyv store adapter (with get, set, delete and clear) (got ${store === null ? 'null' : typeof store}).`,
    },
  ];
}

/** Problems with the `injectionToken` of a `cache-module` cache. */
export function injectionTokenProblems(token: unknown, field: string): OptionProblem[] {
  if (token === undefined || typeof token === 'symbol' || (typeof token === 'string' && token !== '')) {
    return [];
  }
  return [
    {
      field,
      problem:
        "must be the token of the application's cache provider, a non-empty string or a symbol, " +
        `such as '${DEFAULT_CACHE_MODULE_TOKEN}' (got ${token === null ? 'null' : typeof token === 'string' ? 'an empty string' : typeof token}).`,
    },
  ];
}

/** A valid cache resource's options, defaults applied. */
export function resolveCacheOptions(cache: OAuth2CacheResourceOptions): ResolvedOAuth2CacheResourceOptions {
  const common = {
    name: cache.name,
    timeToLiveSeconds: cache.timeToLiveSeconds ?? DEFAULT_CACHE_TTL_SECONDS,
    ...(cache.negativeTimeToLiveSeconds !== undefined && {
      negativeTimeToLiveSeconds: cache.negativeTimeToLiveSeconds,
    }),
    ...(cache.hmacSecret !== undefined && { hmacSecret: cache.hmacSecret }),
    ...(cache.staleIfErrorSeconds !== undefined && { staleIfErrorSeconds: cache.staleIfErrorSeconds }),
  };
  const keyPrefix = `oauth2:${cache.name}:`;
  switch (cache.type) {
    case 'redis':
      return {
        ...common,
        type: 'redis',
        ...resolveRedisTopology(cache),
        ...(cache.username !== undefined && { username: cache.username }),
        ...(cache.password !== undefined && { password: cache.password }),
        ...(cache.tls !== undefined && { tls: cache.tls }),
        keyPrefix: cache.keyPrefix ?? keyPrefix,
        timeout: cache.timeout ?? DEFAULT_CACHE_TIMEOUT_MS,
        connectTimeout: cache.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
      };
    case 'store':
      return {
        ...common,
        type: 'store',
        store: cache.store,
        keyPrefix: cache.keyPrefix ?? keyPrefix,
        timeout: cache.timeout ?? DEFAULT_CACHE_TIMEOUT_MS,
      };
    case 'cache-module':
      return {
        ...common,
        type: 'cache-module',
        injectionToken: cache.injectionToken ?? DEFAULT_CACHE_MODULE_TOKEN,
        keyPrefix: cache.keyPrefix ?? keyPrefix,
        timeout: cache.timeout ?? DEFAULT_CACHE_TIMEOUT_MS,
      };
    default:
      return {
        ...common,
        type: 'memory',
        maxEntries: cache.maxEntries ?? DEFAULT_MAX_ENTRIES,
        ...(cache.timeToIdleSeconds !== undefined && { timeToIdleSeconds: cache.timeToIdleSeconds }),
        rememberTokens: cache.rememberTokens ?? true,
      };
  }
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
