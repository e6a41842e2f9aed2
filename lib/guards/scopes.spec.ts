import { DEFAULT_POLICY, mergePolicy } from '../options/resolved-options';
import { readClaims } from './payload-claims';
import { hasRequiredScopes, plainScopes, readScopes } from './scopes';

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

describe('the plain copies of frozen scope lists', () => {
  it("keeps a token's scopes frozen for handlers, and a plain copy for the scope check", () => {
    const claims = readClaims({ active: true, scope: 'openid orders:read' }, { userClaim: 'sub', scopeSeparator: ' ' });
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims.scopes)).toBe(true);
    const plain = plainScopes(claims, claims.scopes);
    expect(plain).toEqual(['openid', 'orders:read']);
    expect(plain).not.toBe(claims.scopes);
    expect(Object.isFrozen(plain)).toBe(false);
    // Not seen by serialization nor by a deep equality.
    expect(JSON.stringify(claims)).toBe('{"scopes":["openid","orders:read"]}');
    expect(claims).toEqual({ clientId: undefined, user: undefined, scopes: ['openid', 'orders:read'] });
  });

  it("keeps a route policy's required scopes, each merge its own", () => {
    const controller = mergePolicy(DEFAULT_POLICY, { requiredScopes: ['orders:read'] });
    const handler = mergePolicy(controller, { requiredScopes: ['orders:write', 'audit'] });
    expect(plainScopes(controller, controller.requiredScopes)).toEqual(['orders:read']);
    expect(plainScopes(handler, handler.requiredScopes)).toEqual(['orders:write', 'audit']);
    expect(Object.isFrozen(handler.requiredScopes)).toBe(true);
    expect(plainScopes(handler, handler.requiredScopes)).not.toBe(handler.requiredScopes);
    const unchanged = mergePolicy(handler, { modeStrict: false });
    expect(plainScopes(unchanged, unchanged.requiredScopes)).toEqual(['orders:write', 'audit']);
  });

  it('falls back to the exposed list for an object made elsewhere', () => {
    const scopes = Object.freeze(['a']);
    expect(plainScopes({ scopes }, scopes)).toBe(scopes);
  });
});
