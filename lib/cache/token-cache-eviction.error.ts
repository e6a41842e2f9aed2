/**
 * Thrown by `TokenCacheRegistry.evict()` when a cache could not drop a token (Redis down, say): the
 * entry may still be there, and will be until it expires, so retry (a revocation webhook can answer
 * 5xx and let the authorization server send it again).
 */
export class TokenCacheEvictionError extends Error {
  /** The caches that failed. */
  readonly caches: readonly string[];

  constructor(caches: readonly string[], causes: readonly unknown[]) {
    super(
      `could not evict the token from cache${caches.length > 1 ? 's' : ''} ${caches.map((name) => `'${name}'`).join(', ')}: ` +
        'it may be served from there until its entry expires. Retry.',
      { cause: causes.length === 1 ? causes[0] : causes },
    );
    this.name = 'TokenCacheEvictionError';
    this.caches = caches;
  }
}
