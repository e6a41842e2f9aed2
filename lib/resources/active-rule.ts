/**
 * The RFC 7662 reading of `active`: the boolean, or its string form (some servers quote it).
 * Anything else, a missing member included, is not a valid answer: `undefined`.
 */
export function readActive(active: unknown): boolean | undefined {
  if (active === true || active === 'true') {
    return true;
  }
  if (active === false || active === 'false') {
    return false;
  }
  return undefined;
}
