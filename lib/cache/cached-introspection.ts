import { freezeJson } from '../common/freeze-json';
import { isJsonObject } from '../common/is-json-object';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import type { CachedIntrospection } from './token-cache-store.interface';

/**
 * The one entry of every inactive token: shared, so that a memory cache full of negative entries
 * holds a key per token and nothing more.
 */
export const INACTIVE_ENTRY: CachedIntrospection = Object.freeze({ active: false });

/**
 * The entry of an active token's payload; with `freshUntil`, one a cache with `staleIfErrorSeconds`
 * keeps past its freshness (see {@link CachedIntrospection}).
 */
export function activeEntry(payload: IntrospectionPayload, freshUntil?: number): CachedIntrospection {
  return Object.freeze(freshUntil === undefined ? { active: true, payload } : { active: true, payload, freshUntil });
}

/**
 * An entry read back from a store that serializes (Redis, a store the application supplies): checked
 * and frozen, or `undefined` when it is not one of ours (another program's key, another version's
 * format), which then counts as a miss rather than as a payload to trust.
 */
export function readEntry(value: unknown): CachedIntrospection | undefined {
  if (!isJsonObject(value)) {
    return undefined;
  }
  if (value.active === false) {
    return INACTIVE_ENTRY;
  }
  if (value.active === true && isJsonObject(value.payload)) {
    const payload = value.payload as IntrospectionPayload;
    freezeJson(payload);
    // A store that keeps objects as they are gives back the frozen entry it was given.
    if (Object.isFrozen(value)) {
      return value as CachedIntrospection;
    }
    const freshUntil = value.freshUntil;
    return activeEntry(payload, typeof freshUntil === 'number' && Number.isFinite(freshUntil) ? freshUntil : undefined);
  }
  return undefined;
}
