/**
 * Freezes a parsed JSON value in depth, so that one payload can be shared safely by many requests
 * (a cached payload is the same object on every hit). Walks without recursion, so a value nested
 * deep enough to overflow a recursive walk is only a big object; stops, returning false, at a value
 * nested deeper than `maxDepth`. An object already frozen is taken as frozen in depth: this module
 * freezes only that way.
 */
export function freezeJson(root: unknown, maxDepth = Number.POSITIVE_INFINITY): boolean {
  const pending: Array<[unknown, number]> = [[root, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (typeof value !== 'object' || value === null || Object.isFrozen(value)) {
      continue;
    }
    if (depth > maxDepth) {
      return false;
    }
    Object.freeze(value);
    for (const member of Object.values(value)) {
      pending.push([member, depth + 1]);
    }
  }
  return true;
}
