/**
 * RFC 8707 / RFC 9068 §4 audience and issuer checks of an introspection payload. They run on every
 * request (a cached payload too), so they allocate nothing: a few string comparisons.
 */

/** Whether the payload's `aud` (a string, or an array of strings) contains one of `audiences`. */
export function audienceMatches(aud: unknown, audiences: readonly string[]): boolean {
  if (typeof aud === 'string') {
    return audiences.includes(aud);
  }
  if (Array.isArray(aud)) {
    for (const entry of aud as unknown[]) {
      if (typeof entry === 'string' && audiences.includes(entry)) {
        return true;
      }
    }
  }
  return false;
}

/** Whether the payload's `iss` is one of `issuers` (compared as strings, exactly: RFC 8414 §3.3). */
export function issuerMatches(iss: unknown, issuers: readonly string[]): boolean {
  return typeof iss === 'string' && issuers.includes(iss);
}
