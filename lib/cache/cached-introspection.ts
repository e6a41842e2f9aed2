import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import type { CachedIntrospection } from './token-cache-store.interface';

/**
 * The one entry of every inactive token: shared, so that a memory cache full of negative entries
 * holds a key per token and nothing more.
 */
export const INACTIVE_ENTRY: CachedIntrospection = Object.freeze({ active: false });

/** The entry of an active token's payload. */
export function activeEntry(payload: IntrospectionPayload): CachedIntrospection {
  return Object.freeze({ active: true, payload });
}

/**
 * An entry read back from a store that serializes (Redis, a store the application supplies): checked
 * and frozen, or `undefined` when it is not one of ours (another program's key, another version's
 * format), which then counts as a miss rather than as a payload to trust.
 */
export function readEntry(value: unknown): CachedIntrospection | undefined {
  if (!isPlainObject(value)) {
    return undefined;
  }
  if (value.active === false) {
    return INACTIVE_ENTRY;
  }
  if (value.active === true && isPlainObject(value.payload)) {
    const payload = deepFreeze(value.payload as IntrospectionPayload);
    // A store that keeps objects as they are gives back the frozen entry it was given.
    return Object.isFrozen(value) ? (value as CachedIntrospection) : activeEntry(payload);
  }
  return undefined;
}

/**
 * Freezes a parsed JSON value in depth, so that one entry can be shared safely by many requests.
 * Iterative: a tampered entry nested deep enough to overflow a recursive walk is only a big object.
 */
export function deepFreeze<T>(value: T): T {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'object' && next !== null && !Object.isFrozen(next)) {
      Object.freeze(next);
      for (const member of Object.values(next)) {
        pending.push(member);
      }
    }
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
