import type { IntrospectionPayload } from '../interfaces/introspection.interface';

/**
 * The scopes of an introspection payload: the `scope` claim, else `scp`; a JSON array of strings, or
 * a string split on `separator`. Empty segments and non-string elements are dropped; any other type
 * holds no scope.
 */
export function readScopes(payload: IntrospectionPayload, separator: string): string[] {
  const claim = payload.scope ?? payload.scp;
  if (typeof claim === 'string') {
    return claim.split(separator).filter((scope) => scope.length > 0);
  }
  if (Array.isArray(claim)) {
    return claim.filter((scope): scope is string => typeof scope === 'string' && scope.length > 0);
  }
  return [];
}

/**
 * Whether a token's scopes satisfy a route's: every required scope (`strict`) or any one of them.
 * Exact, case-sensitive comparison; no required scope always passes.
 */
export function hasRequiredScopes(
  tokenScopes: readonly string[],
  required: readonly string[],
  strict: boolean,
): boolean {
  if (required.length === 0) {
    return true;
  }
  // A route requires a scope or three: a linear search beats building a set on every request. Indexed
  // loops, not `for...of` and `includes()`: both arrays are frozen, and V8's optimizing compiler inlines
  // neither for frozen arrays (measured with perf: they were a sixth of a memory-cache hit on Fastify).
  for (let index = 0; index < required.length; index += 1) {
    if (holds(tokenScopes, required[index]) !== strict) {
      // Strict: a required scope is missing. Permissive: one is present.
      return !strict;
    }
  }
  return strict;
}

function holds(scopes: readonly string[], scope: string): boolean {
  for (let index = 0; index < scopes.length; index += 1) {
    if (scopes[index] === scope) {
      return true;
    }
  }
  return false;
}
