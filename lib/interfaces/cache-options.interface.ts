/** A cache resource kept in this process's memory. */
export interface MemoryCacheResourceOptions {
  /** The name the policy refers to in `oauthCacheResource`. Unique among caches. */
  name: string;
  /** Default `memory`. */
  type?: 'memory';
  /** Longest life of an entry, in seconds; an entry never outlives its token's `exp` either. Default 300. */
  timeToLiveSeconds?: number;
  /** Most entries kept; the least recently used goes first. Default 10000. */
  maxEntries?: number;
}

/** One cache resource, by its `type`. */
export type OAuth2CacheResourceOptions = MemoryCacheResourceOptions;
