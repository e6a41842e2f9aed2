/** What the `Authorization` headers of a request hold, for the Bearer scheme (RFC 6750 §2.1). */
export type BearerCredential =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'no-token' }
  | { readonly kind: 'no-header' };

const BEARER = /^bearer(?:[ \t]+(.*))?$/is;

/**
 * Finds the Bearer credential among the values of the `Authorization` header: the first value whose
 * scheme is `Bearer` (any case) wins. The token is separated from the scheme by spaces or tabs and
 * is the rest of the value, trimmed. `Bearerabc` is not a Bearer credential (Gravitee reads it as
 * the token `abc`); `Bearer` alone holds no token.
 */
export function findBearerCredential(values: readonly string[]): BearerCredential {
  for (const value of values) {
    const match = BEARER.exec(value.trim());
    if (match) {
      const token = (match[1] ?? '').trim();
      return token ? { kind: 'token', token } : { kind: 'no-token' };
    }
  }
  return { kind: 'no-header' };
}
