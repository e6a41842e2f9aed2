import fc from 'fast-check';
import { bearerTokenOf, findBearerCredential, isB64Token, isBearerValue, trimOws } from '../../lib/guards/bearer-token';

/**
 * Issue 5, hostile input, below HTTP: `findBearerCredential` over strings of every code point (which
 * HTTP/1.1 cannot carry, but other transports and adapters may hand over), against an independent
 * model of RFC 6750 §2.1; and whitespace trimming in linear time. Issue 12: the b64token syntax check
 * against the RFC's grammar written as a regular expression.
 */

const isOws = (char: string) => char === ' ' || char === '\t';

function model(values: readonly string[]): ReturnType<typeof findBearerCredential> {
  for (const value of values) {
    let start = 0;
    let end = value.length;
    while (start < end && isOws(value[start])) start += 1;
    while (end > start && isOws(value[end - 1])) end -= 1;
    const trimmed = value.slice(start, end);
    if (trimmed.slice(0, 6).toLowerCase() !== 'bearer') {
      continue;
    }
    const rest = trimmed.slice(6);
    if (rest === '') {
      return { kind: 'no-token' };
    }
    if (!isOws(rest[0])) {
      continue;
    }
    let tokenStart = 0;
    while (tokenStart < rest.length && isOws(rest[tokenStart])) tokenStart += 1;
    const token = rest.slice(tokenStart);
    return token ? { kind: 'token', token } : { kind: 'no-token' };
  }
  return { kind: 'no-header' };
}

const value = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc
    .tuple(
      fc.mixedCase(fc.constantFrom('bearer', 'basic', 'bearerx', '')),
      fc.string({ unit: fc.constantFrom(' ', '\t', '\u00a0', '\u3000', '\n', '\v'), maxLength: 3 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.string({ unit: fc.constantFrom(' ', '\t', '\u00a0', '\u2028', '\ufeff'), maxLength: 3 }),
    )
    .map((parts) => parts.join('')),
);

describe('findBearerCredential, property-based', () => {
  it('agrees with the model on any list of any strings, and never throws', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 4 }), (values) => {
        expect(findBearerCredential(values)).toEqual(model(values));
      }),
      { numRuns: 300 },
    );
  });

  it('never drops a character of the token but spaces and tabs at its ends', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), (token) => {
        const credential = findBearerCredential([`Bearer ${token}`]);
        const expected = trimOws(token);
        expect(credential).toEqual(expected ? { kind: 'token', token: expected } : { kind: 'no-token' });
        if (credential.kind === 'token') {
          expect(token).toContain(credential.token);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('trimOws', () => {
  it('trims spaces and tabs only', () => {
    expect(trimOws(' \t a b \t ')).toBe('a b');
    expect(trimOws('\u00a0a\u00a0')).toBe('\u00a0a\u00a0');
    expect(trimOws('\v\fa\r\n')).toBe('\v\fa\r\n');
    expect(trimOws(' \t ')).toBe('');
  });

  it('takes linear time on long runs of spaces (a regular expression would take quadratic time)', () => {
    const hostile = `a${' '.repeat(1_000_000)}b${' '.repeat(1_000_000)}`;
    const started = Date.now();
    expect(trimOws(hostile)).toBe(`a${' '.repeat(1_000_000)}b`);
    expect(findBearerCredential([`Bearer ${hostile}`])).toEqual({ kind: 'token', token: `a${' '.repeat(1_000_000)}b` });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

describe('isB64Token, property-based', () => {
  const nearToken = fc.oneof(
    fc.stringMatching(B64TOKEN),
    fc
      .tuple(fc.stringMatching(B64TOKEN), fc.string({ unit: 'binary', maxLength: 2 }), fc.stringMatching(/^[a-z=]*$/))
      .map((parts) => parts.join('')),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
  );

  it('agrees with the grammar on any string', () => {
    fc.assert(
      fc.property(nearToken, (token) => {
        expect(isB64Token(token)).toBe(B64TOKEN.test(token));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts what any Bearer header yields exactly when the grammar does', () => {
    fc.assert(
      fc.property(value, (header) => {
        const token = bearerTokenOf(header);
        if (token) {
          expect(isB64Token(token)).toBe(B64TOKEN.test(token));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('isBearerValue, property-based', () => {
  it('tells Bearer values from others exactly as bearerTokenOf does, without building the token', () => {
    fc.assert(
      fc.property(value, (header) => {
        expect(isBearerValue(header)).toBe(bearerTokenOf(header) !== undefined);
      }),
      { numRuns: 1000 },
    );
  });
});
