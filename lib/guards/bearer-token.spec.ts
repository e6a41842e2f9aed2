import { findBearerCredential, isB64Token, isBearerValue } from './bearer-token';

describe('findBearerCredential', () => {
  describe('reads the token of a Bearer credential', () => {
    it.each([
      ['Bearer abc', 'abc'],
      ['bearer abc', 'abc'],
      ['BEARER abc', 'abc'],
      ['BeArEr abc', 'abc'],
    ])('whatever the case of the scheme: %j', (value, token) => {
      expect(findBearerCredential([value])).toEqual({ kind: 'token', token });
    });

    it.each([
      ['one space', 'Bearer abc'],
      ['several spaces', 'Bearer    abc'],
      ['a tab', 'Bearer\tabc'],
      ['several tabs', 'Bearer\t\tabc'],
      ['tabs and spaces', 'Bearer \t abc'],
    ])('separated from the scheme by %s', (_, value) => {
      expect(findBearerCredential([value])).toEqual({ kind: 'token', token: 'abc' });
    });

    it('trims the token', () => {
      expect(findBearerCredential(['Bearer   abc.def-ghi \t '])).toEqual({ kind: 'token', token: 'abc.def-ghi' });
    });

    it('keeps the characters of a b64token, "=" padding included', () => {
      expect(findBearerCredential(['Bearer a-b._~+/c=='])).toEqual({ kind: 'token', token: 'a-b._~+/c==' });
    });
  });

  describe('finds no token when the scheme stands alone', () => {
    it.each(['Bearer', 'bearer', 'BEARER', 'Bearer   ', 'Bearer \t '])('%j', (value) => {
      expect(findBearerCredential([value])).toEqual({ kind: 'no-token' });
    });
  });

  describe('finds no Bearer header', () => {
    it('in an empty list', () => {
      expect(findBearerCredential([])).toEqual({ kind: 'no-header' });
    });

    it('when the scheme is glued to the token (Bearerabc is not a Bearer credential)', () => {
      expect(findBearerCredential(['Bearerabc'])).toEqual({ kind: 'no-header' });
    });

    it.each(['Basic dXNlcjpwYXNz', 'Digest username="a"', 'Token abc', 'abc', ''])('in %j', (value) => {
      expect(findBearerCredential([value])).toEqual({ kind: 'no-header' });
    });
  });

  describe('with several header values', () => {
    it('takes the first Bearer value, even after a Basic one', () => {
      expect(findBearerCredential(['Basic dXNlcjpwYXNz', 'Bearer first', 'Bearer second'])).toEqual({
        kind: 'token',
        token: 'first',
      });
    });

    it('stops at the first Bearer value even when it holds no token', () => {
      expect(findBearerCredential(['Bearer', 'Bearer later'])).toEqual({ kind: 'no-token' });
    });

    it('skips values that are not Bearer credentials', () => {
      expect(findBearerCredential(['Bearerabc', 'Basic x', 'bearer good'])).toEqual({ kind: 'token', token: 'good' });
    });

    it('finds no header when none of them is Bearer', () => {
      expect(findBearerCredential(['Basic x', 'Bearerabc'])).toEqual({ kind: 'no-header' });
    });
  });
});

describe('isB64Token (RFC 6750 §2.1)', () => {
  it.each([
    'abc',
    'A',
    '0',
    'a-b._~+/c',
    'abc=',
    'abc==',
    'a===',
    '-',
    '~~~',
    '/+/',
    'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln',
    'x'.repeat(10_000),
  ])('accepts %j', (token) => {
    expect(isB64Token(token)).toBe(true);
  });

  it.each([
    ['an empty token', ''],
    ['padding alone', '='],
    ['padding first', '=abc'],
    ['a character after the padding', 'ab=c'],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a comma', 'a,b'],
    ['quotes', '"x"'],
    ['a semicolon', 'a;b'],
    ['a colon', 'a:b'],
    ['a backslash', 'a\\b'],
    ['a percent sign', 'a%20b'],
    ['a line feed', 'ab\ncd'],
    ['a NUL', 'ab\u0000'],
    ['DEL', 'ab\u007f'],
    ['a no-break space', 'ab\u00a0'],
    ['a latin-1 letter', 'caf\u00e9'],
    ['a character whose low byte is a letter', '\u0141'],
    ['the euro sign', '\u20ac'],
    ['a lone surrogate', 'a\ud800'],
    ['an emoji', 'a\ud83d\udd11'],
  ])('refuses %s', (_name, token) => {
    expect(isB64Token(token)).toBe(false);
  });

  it('accepts exactly the 66 characters of the grammar, "=" as padding only', () => {
    const accepted = [];
    for (let code = 0; code < 0x10000; code += 1) {
      if (isB64Token(String.fromCharCode(code))) {
        accepted.push(String.fromCharCode(code));
      }
    }
    expect(accepted.join('')).toBe('+-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~');
  });
});

describe('isB64Token and RegExp.input', () => {
  it('leaves no token in the legacy RegExp statics', () => {
    const legacy = RegExp as unknown as Record<string, string>;
    const valid = isB64Token('secret-token');
    // Read before any matcher runs a regular expression of its own.
    const statics = [legacy.input, legacy.lastMatch, legacy.leftContext, legacy.rightContext];
    expect(valid).toBe(true);
    expect(statics).toEqual(['', '', '', '']);
  });

  it('takes linear time on long tokens that fail at the end', () => {
    const started = Date.now();
    expect(isB64Token(`${'a'.repeat(1_000_000)}=${'='.repeat(1_000_000)}!`)).toBe(false);
    expect(isB64Token(`${'a'.repeat(1_000_000)} `)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('isBearerValue', () => {
  it.each(['Bearer abc', 'bearer', 'BEARER\tx', '  Bearer  ', '\tbearer x y', 'Bearer ,'])(
    'is true for %j',
    (value) => {
      expect(isBearerValue(value)).toBe(true);
    },
  );

  it.each(['Bearerabc', 'Basic x', 'Bear', '', ' ', 'xBearer a', 'Bearer\u00a0a', 'Bearer,a'])(
    'is false for %j',
    (value) => {
      expect(isBearerValue(value)).toBe(false);
    },
  );
});
