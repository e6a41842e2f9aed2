import { Logger } from '@nestjs/common';
import { hash } from 'node:crypto';
import type { TokenCache } from '../cache/token-cache';

/** Most proofs the process-local store remembers; past it the oldest goes first (see {@link DpopReplayStore}). */
export const MAX_LOCAL_DPOP_PROOFS = 100_000;

/**
 * The key under which a proof's use is remembered: a digest of its key's thumbprint and its `jti`
 * (never the raw values), so that two clients' `jti`s cannot collide and a store holds nothing of a proof.
 */
export function dpopReplayKey(jkt: string, jti: string): string {
  return hash('sha256', `dpop-jti\0${jkt}\0${jti}`, 'base64url');
}

/**
 * Remembers each proof's `jti` for as long as its `iat` keeps it acceptable, and refuses a second use
 * (RFC 9449 §11.1). With a cache resource whose store is shared (Redis), through that store with an
 * atomic set-if-absent, so that a proof replayed at another instance is caught too; otherwise, or while
 * that store fails, in this process only: a bounded map, whose oldest entries go first when it is full
 * (they are the nearest to leaving the `iat` window anyway).
 */
export class DpopReplayStore {
  private readonly logger = new Logger('OAuth2DPoP');
  /** Key → expiry in ms; in insertion order, which is nearly expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = MAX_LOCAL_DPOP_PROOFS) {}

  /**
   * Records a proof's first use: `true` the first time, `false` for a replay. At once without a shared
   * store; a promise with one.
   */
  firstUse(key: string, ttlMilliseconds: number, cache: TokenCache | undefined): boolean | Promise<boolean> {
    if (cache === undefined || !cache.sharedOnce) {
      return this.firstUseHere(key, ttlMilliseconds);
    }
    return cache.addOnce(key, ttlMilliseconds).then((first) => {
      if (first !== undefined) {
        return first;
      }
      // The shared store failed (the cache logs it): the proof is still checked in this process.
      this.logger.debug('the shared replay store failed: proof checked against this process only');
      return this.firstUseHere(key, ttlMilliseconds);
    });
  }

  /** The process-local check. */
  firstUseHere(key: string, ttlMilliseconds: number, now = Date.now()): boolean {
    const expiry = this.seen.get(key);
    if (expiry !== undefined && expiry > now) {
      return false;
    }
    this.sweep(now);
    this.seen.delete(key);
    this.seen.set(key, now + ttlMilliseconds);
    return true;
  }

  /** How many proofs are remembered here. */
  get size(): number {
    return this.seen.size;
  }

  /** Drops expired entries from the front, and the oldest while the map is full. */
  private sweep(now: number): void {
    for (const [key, expiry] of this.seen) {
      if (expiry > now && this.seen.size < this.maxEntries) {
        return;
      }
      this.seen.delete(key);
    }
  }
}
