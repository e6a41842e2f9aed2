import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CachedIntrospection } from './token-cache-store.interface';

/**
 * How often a waiting instance looks for the answer, in milliseconds: a few Redis reads per
 * introspection it waits for, and about half of it added to its wait. Only one request per instance
 * and token polls (the others wait on its look-up in the process), so the reads stay few.
 */
export const SINGLE_FLIGHT_POLL_MS = 10;

/** What a fleet-wide single flight needs of a cache: its reads, and a lock every instance sees. */
export interface FleetLockingCache {
  /** The entry of a key; `undefined` for a miss or a failure. */
  get(key: string, counted?: boolean): Promise<CachedIntrospection | undefined>;
  /** Takes the lock of a key: true when taken, false when held by another, `undefined` when the store failed. */
  tryLock(key: string, owner: string, ttlMilliseconds: number): Promise<boolean | undefined>;
  /** Whether the lock of a key is held: `undefined` when the store failed. */
  lockHeld(key: string): Promise<boolean | undefined>;
  /** Releases the lock of a key if `owner` holds it. Never throws. */
  unlock(key: string, owner: string): Promise<void>;
}

/**
 * The outcome of {@link FleetSingleFlight.turn}: another instance's answer, found in the cache; or
 * this instance's turn to introspect, with `release` to call once its answer is in the cache (or it
 * failed).
 */
export type FleetTurn =
  | { readonly entry: CachedIntrospection; readonly release?: undefined }
  | { readonly entry?: undefined; readonly release: () => Promise<void> };

/** Introspect without the lock: the store failed, or the wait is over. */
const ALONE: FleetTurn = { release: () => Promise.resolve() };

/**
 * Fleet-wide single flight over a shared cache: of the instances that miss the same token at the
 * same moment, the first takes a lock in the store (`SET NX PX`, under a digest of the entry's key,
 * never the token) and introspects; the others poll the store for its answer. A waiter introspects
 * itself when the lock is gone without an answer (the holder failed, or got an answer the cache does
 * not keep, such as an inactive token without a negative TTL), when the store fails, and at the
 * latest after `timeoutMs`, which is also the lock's life: a holder that dies delays no one longer.
 *
 * Polling rather than Redis keyspace notifications: those need `notify-keyspace-events` set on the
 * server (which managed Redis often forbids) and a subscriber connection per instance, and are lost
 * on a failover; a poll needs nothing and is bounded in count by `timeoutMs / pollMs`.
 */
export class FleetSingleFlight {
  /**
   * @param cache the shared cache.
   * @param timeoutMs longest wait, and life of the lock, in milliseconds.
   * @param pollMs time between two looks for the answer.
   */
  constructor(
    private readonly cache: FleetLockingCache,
    readonly timeoutMs: number,
    private readonly pollMs = SINGLE_FLIGHT_POLL_MS,
  ) {}

  /**
   * Waits for another instance's answer to the key, or for this instance's turn to introspect.
   * Never throws: a failing store gives the turn at once.
   */
  async turn(key: string): Promise<FleetTurn> {
    const owner = randomUUID();
    const taken = await this.cache.tryLock(key, owner, this.timeoutMs);
    if (taken === true) {
      return { release: () => this.cache.unlock(key, owner) };
    }
    if (taken === undefined) {
      return ALONE;
    }
    const deadline = Date.now() + this.timeoutMs;
    for (let left = this.timeoutMs; left > 0; left = deadline - Date.now()) {
      await sleep(Math.min(this.pollMs, left));
      const entry = await this.cache.get(key, false);
      if (entry) {
        return { entry };
      }
      const held = await this.cache.lockHeld(key);
      if (held !== true) {
        // The holder writes its answer before it releases the lock: an answer written before the
        // release is found by this second read.
        const late = held === false ? await this.cache.get(key, false) : undefined;
        return late ? { entry: late } : ALONE;
      }
    }
    return ALONE;
  }
}
