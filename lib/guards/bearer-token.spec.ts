import { findBearerCredential } from './bearer-token';

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
