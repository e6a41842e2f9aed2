import type { IntrospectionPayload } from '../interfaces/introspection.interface';

/**
 * What a cache keeps of one introspection: the server's answer, not the guard's decision. An active
 * token's entry holds its payload, whose `exp`, `nbf` and scopes the guard checks on every request;
 * an inactive token's entry (kept only with `negativeTimeToLiveSeconds`) holds nothing else.
 * Entries are frozen: one object may serve many requests.
 *
 * `freshUntil` (milliseconds since the epoch) is set only by a cache with `staleIfErrorSeconds`: the
 * store keeps the entry that much longer, and past `freshUntil` it counts as a miss, which the guard
 * serves only when the authorization server is unavailable.
 */
export type CachedIntrospection =
  | { readonly active: true; readonly payload: IntrospectionPayload; readonly freshUntil?: number }
  | { readonly active: false };

/**
 * Where a cache resource keeps its entries: the one small interface every store (memory, Redis, a
 * store the application supplies) implements. Keys are already hashed. Every method rejects when
 * the store fails; {@link TokenCache} turns that into a miss.
 */
export interface TokenCacheStore {
  /** The entry under a key, or `undefined`. */
  get(key: string): Promise<CachedIntrospection | undefined>;
  /**
   * The entry under a key, read synchronously, for a store in this process's memory: a cache hit
   * then costs the guard no promise and no event-loop turn. Stores across a network leave it out.
   */
  peek?(key: string): CachedIntrospection | undefined;
  /**
   * The entry of a token at a resource, found by the token itself rather than its key: for a store in
   * this process's memory that remembers the token beside the entry ({@link rememberToken}), so that
   * a hit skips hashing the token. `undefined` when it does not (the caller then hashes). Raw tokens
   * must never leave the process this way: a shared store leaves both methods out.
   *
   * @param now the caller's clock reading (`Date.now()`), when it has one: the store then reads no clock.
   */
  peekToken?(resourceName: string, token: string, now?: number): CachedIntrospection | undefined;
  /**
   * Remembers `token` at `resourceName` as another name of the entry under `key`, if there is one,
   * until that entry goes. With {@link peekToken}.
   */
  rememberToken?(key: string, resourceName: string, token: string): void;
  /**
   * Renames a token remembered at `resourceName` ({@link rememberToken}) to the text it was read from
   * on a request (its whole `Authorization` header, as written), which {@link peekToken} then finds
   * the entry by instead: the entry keeps one such name. Nothing when the token is not remembered.
   * With {@link peekToken}; a store that leaves it out is looked up by the token.
   */
  rememberWriting?(resourceName: string, token: string, written: string): void;
  /** Keeps an entry for `ttlMilliseconds` (always positive and finite). */
  set(key: string, entry: CachedIntrospection, ttlMilliseconds: number): Promise<void>;
  /**
   * Keeps a marker under a key for `ttlMilliseconds` unless the key is there already, atomically
   * across every instance that shares the store (Redis `SET NX PX`): `true` when it was absent. For
   * DPoP's replay check; stores that cannot do it atomically leave it out.
   */
  addOnce?(key: string, ttlMilliseconds: number): Promise<boolean>;
  /** Drops a key. */
  delete(key: string): Promise<void>;
  /**
   * Gets what the store needs before it can work at all (an optional package to import, the
   * application's provider to find). Called once, when every provider of the application exists and
   * before {@link open}; a rejection stops the application's start, so it should say what to do.
   */
  prepare?(): Promise<void>;
  /**
   * Connects, for a store that has a connection; resolves once it can serve, rejects when the first
   * attempt fails (the store keeps trying in the background). Called once, when the application starts.
   */
  open?(): Promise<void>;
  /**
   * Checks the store's connection (a Redis `PING`), for health checks; rejects when it fails. Stores
   * without a connection leave it out.
   */
  ping?(): Promise<void>;
  /** Releases the store's resources when the application shuts down. */
  close(): Promise<void>;
  /**
   * Takes a lock shared by every instance using the store (Redis's `SET NX PX`), for the fleet-wide
   * single flight: resolves true when this call took it. Stores only this process sees leave it out.
   */
  lock?(key: string, owner: string, ttlMilliseconds: number): Promise<boolean>;
  /** Whether the lock is held by anyone. Present with {@link lock}. */
  locked?(key: string): Promise<boolean>;
  /** Releases the lock if `owner` still holds it. Present with {@link lock}. */
  unlock?(key: string, owner: string): Promise<void>;
}
