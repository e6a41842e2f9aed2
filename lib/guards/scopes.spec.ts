import { hasRequiredScopes, readScopes } from './scopes';

describe('readScopes', () => {
  describe('a string scope claim', () => {
    it('is split on the separator', () => {
      expect(readScopes({ scope: 'orders:read orders:write profile' }, ' ')).toEqual([
        'orders:read',
        'orders:write',
        'profile',
      ]);
    });

    it('is split on a custom separator, spaces then belonging to the scope', () => {
      expect(readScopes({ scope: 'a,b c,d' }, ',')).toEqual(['a', 'b c', 'd']);
    });

    it('is split on a multi-character separator', () => {
      expect(readScopes({ scope: 'a::b::c' }, '::')).toEqual(['a', 'b', 'c']);
    });

    it('drops empty segments', () => {
      expect(readScopes({ scope: '  a   b ' }, ' ')).toEqual(['a', 'b']);
      expect(readScopes({ scope: ',a,,b,' }, ',')).toEqual(['a', 'b']);
    });

    it('holds no scope when empty', () => {
      expect(readScopes({ scope: '' }, ' ')).toEqual([]);
    });
  });

  describe('the scp claim', () => {
    it('is read when there is no scope claim', () => {
      expect(readScopes({ scp: 'x y' }, ' ')).toEqual(['x', 'y']);
      expect(readScopes({ scp: ['x', 'y'] }, ' ')).toEqual(['x', 'y']);
    });

    it('is ignored when there is a scope claim', () => {
      expect(readScopes({ scope: 'a', scp: 'x' }, ' ')).toEqual(['a']);
    });
  });

  describe('an array scope claim', () => {
    it('is taken as the list of scopes, not split', () => {
      expect(readScopes({ scope: ['a', 'b c'] }, ' ')).toEqual(['a', 'b c']);
    });

    it('loses its non-string and empty elements', () => {
      expect(readScopes({ scope: ['a', 1, null, { b: 1 }, ['c'], true, '', 'd'] }, ' ')).toEqual(['a', 'd']);
    });
  });

  describe('any other claim holds no scope', () => {
    it.each([
      ['a number', 42],
      ['an object', { a: 'b' }],
      ['a boolean', true],
    ])('%s', (_, scope) => {
      expect(readScopes({ scope }, ' ')).toEqual([]);
    });

    it('null, or no claim at all', () => {
      expect(readScopes({ scope: null }, ' ')).toEqual([]);
      expect(readScopes({}, ' ')).toEqual([]);
    });
  });
});

describe('hasRequiredScopes', () => {
  const token = ['orders:read', 'orders:write', 'profile'];

  describe('in strict mode', () => {
    it('passes when every required scope is held, extra token scopes being fine', () => {
      expect(hasRequiredScopes(token, ['orders:read', 'orders:write'], true)).toBe(true);
    });

    it('fails when one required scope is missing', () => {
      expect(hasRequiredScopes(token, ['orders:read', 'orders:delete'], true)).toBe(false);
    });
  });

  describe('in permissive mode', () => {
    it('passes when any one required scope is held', () => {
      expect(hasRequiredScopes(token, ['orders:delete', 'profile'], false)).toBe(true);
    });

    it('fails when none is held', () => {
      expect(hasRequiredScopes(token, ['orders:delete', 'admin'], false)).toBe(false);
    });
  });

  it('passes with no required scope, in both modes, even for a token without scopes', () => {
    expect(hasRequiredScopes([], [], true)).toBe(true);
    expect(hasRequiredScopes([], [], false)).toBe(true);
  });

  it('fails for a token without scopes when scopes are required', () => {
    expect(hasRequiredScopes([], ['a'], true)).toBe(false);
    expect(hasRequiredScopes([], ['a'], false)).toBe(false);
  });

  it('compares exactly and case-sensitively', () => {
    expect(hasRequiredScopes(['Orders:Read'], ['orders:read'], true)).toBe(false);
    expect(hasRequiredScopes(['Orders:Read'], ['orders:read'], false)).toBe(false);
    expect(hasRequiredScopes(['orders'], ['orders:read'], true)).toBe(false);
    expect(hasRequiredScopes(['orders:read:all'], ['orders:read'], true)).toBe(false);
  });
});
