/** What the `Authorization` headers of a request hold, for the Bearer scheme (RFC 6750 §2.1). */
export type BearerCredential =
  { readonly kind: 'token'; readonly token: string } | { readonly kind: 'no-token' } | { readonly kind: 'no-header' };

const BEARER = 'bearer';
const NO_TOKEN: BearerCredential = Object.freeze({ kind: 'no-token' });
const NO_HEADER: BearerCredential = Object.freeze({ kind: 'no-header' });

/**
 * Finds the Bearer credential among the values of the `Authorization` header: the first value whose
 * scheme is `Bearer` (any case) wins. The token is separated from the scheme by spaces or tabs and
 * is the rest of the value, trimmed of spaces and tabs. `Bearerabc` is not a Bearer credential (Gravitee reads it as
 * the token `abc`); `Bearer` alone holds no token.
 */
export function findBearerCredential(values: readonly string[]): BearerCredential {
  for (const value of values) {
    const token = bearerTokenOf(value);
    if (token !== undefined) {
      return bearerCredential(token);
    }
  }
  return NO_HEADER;
}

/** The credential that {@link bearerTokenOf}'s answer stands for (`undefined`: no Bearer value). */
export function bearerCredential(token: string | undefined): BearerCredential {
  if (token === undefined) {
    return NO_HEADER;
  }
  return token ? { kind: 'token', token } : NO_TOKEN;
}

/**
 * The token of one `Authorization` value if its scheme is `Bearer`: the token, or `''` for the scheme
 * alone; `undefined` for any other value. Read by hand rather than by a regular expression, with
 * character codes rather than one-character strings: it runs on every request, and allocates nothing
 * but the token (one slice of the value, not a trimmed copy sliced again).
 */
export function bearerTokenOf(value: string): string | undefined {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) {
    start += 1;
  }
  while (end > start && isOws(value.charCodeAt(end - 1))) {
    end -= 1;
  }
  for (let index = 0; index < BEARER.length; index += 1) {
    // ASCII case-insensitive: setting bit 0x20 lower-cases a letter, and only 'B' or 'b' gives 'b'.
    // Past the trimmed end there is whitespace or nothing (NaN), which no letter matches.
    if ((value.charCodeAt(start + index) | 0x20) !== BEARER.charCodeAt(index)) {
      return undefined;
    }
  }
  let tokenStart = start + BEARER.length;
  if (tokenStart === end) {
    return '';
  }
  if (!isOws(value.charCodeAt(tokenStart))) {
    return undefined;
  }
  while (tokenStart < end && isOws(value.charCodeAt(tokenStart))) {
    tokenStart += 1;
  }
  return value.slice(tokenStart, end);
}

/** A space or a tab, HTTP's optional whitespace (RFC 9110 §5.6.3). */
function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Whether a value of the `Authorization` header has the Bearer scheme: `Bearer` (any case), alone or
 * followed by a space or a tab, around optional whitespace. The same values as
 * {@link bearerTokenOf} tells from others, without building the token.
 */
export function isBearerValue(value: string): boolean {
  let start = 0;
  while (start < value.length && (value[start] === ' ' || value[start] === '\t')) {
    start += 1;
  }
  for (let index = 0; index < BEARER.length; index += 1) {
    if ((value.charCodeAt(start + index) | 0x20) !== BEARER.charCodeAt(index)) {
      return false;
    }
  }
  const end = start + BEARER.length;
  return end === value.length || value[end] === ' ' || value[end] === '\t';
}

/** RFC 6750 §2.1's b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Matches the empty string only. */
const FORGET_LAST_MATCH = /^$/;

/**
 * Whether a token has RFC 6750's `b64token` syntax (§2.1), the only tokens the guard introspects:
 * `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. Anything else (a space, a comma, a
 * quote, a control character, a non-ASCII character) is a malformed request, and some of it would not
 * even reach the authorization server as sent (an HTTP client drops or rewrites what a header cannot
 * carry).
 *
 * It runs on every request, before the cache. A regular expression rather than a loop over char codes,
 * measured: in the guard, V8's `charCodeAt` costs several times what irregexp's compiled scan of the
 * same string does (an 800-character JWT made a memory-cache hit about three times slower with a
 * loop). The pattern is anchored and its two parts are disjoint, so it takes linear time, and
 * `test()` allocates nothing. A successful match leaves its subject in the legacy `RegExp.input`,
 * readable by any code until the next match: a match of the empty string replaces it at once.
 */
export function isB64Token(token: string): boolean {
  const valid = B64TOKEN.test(token);
  FORGET_LAST_MATCH.test('');
  return valid;
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
