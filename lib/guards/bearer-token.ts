/** What the `Authorization` headers of a request hold, for the Bearer scheme (RFC 6750 §2.1). */
export type BearerCredential =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'no-token' }
  | { readonly kind: 'no-header' };

const BEARER = /^bearer(?:[ \t]+(.*))?$/is;

/**
 * Finds the Bearer credential among the values of the `Authorization` header: the first value whose
 * scheme is `Bearer` (any case) wins. The token is separated from the scheme by spaces or tabs and
 * is the rest of the value, trimmed of spaces and tabs. `Bearerabc` is not a Bearer credential (Gravitee reads it as
 * the token `abc`); `Bearer` alone holds no token.
 */
export function findBearerCredential(values: readonly string[]): BearerCredential {
  for (const value of values) {
    const match = BEARER.exec(trimOws(value));
    if (match) {
      const token = trimOws(match[1] ?? '');
      return token ? { kind: 'token', token } : { kind: 'no-token' };
    }
  }
  return { kind: 'no-header' };
}

/**
 * Trims HTTP's optional whitespace (RFC 9110 §5.6.3), spaces and tabs, and nothing else:
 * `String.prototype.trim` would also drop a no-break space (0xA0) and accept `Bearer good<NBSP>` as
 * `good`, a token that was never presented. A loop, not a regular expression: `/[ \t]+$/` takes
 * quadratic time on a long run of spaces followed by another character.
 */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === ' ' || value[start] === '\t')) {
    start += 1;
  }
  while (end > start && (value[end - 1] === ' ' || value[end - 1] === '\t')) {
    end -= 1;
  }
  return value.slice(start, end);
}
