import type { IntrospectionPayload } from '../interfaces/introspection.interface';

/**
 * Where a cache resource keeps introspection payloads: the one small interface every store (memory
 * now, Redis and user-supplied stores later) implements. Keys are already hashed; values are frozen
 * payloads.
 */
export interface TokenCacheStore {
  /** The payload under a key, or `undefined`. */
  get(key: string): Promise<IntrospectionPayload | undefined>;
  /** Keeps a payload for `ttlMilliseconds` (always positive and finite). */
  set(key: string, payload: IntrospectionPayload, ttlMilliseconds: number): Promise<void>;
  /** Drops a key. */
  delete(key: string): Promise<void>;
  /** Releases the store's resources when the application shuts down. */
  close(): Promise<void>;
}
