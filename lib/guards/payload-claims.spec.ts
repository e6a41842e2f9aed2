import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import { readClaims, readClientId, timeClaimsRejection } from './payload-claims';

const NOW = 1_700_000_000;
const reading = { userClaim: 'sub', scopeSeparator: ' ', toleranceSeconds: 5 };

/** What the guard does with an active token's payload: its time claims checked, then its claims read. */
function checkPayload(payload: IntrospectionPayload, options = reading, nowSeconds?: number) {
  const key = timeClaimsRejection(payload, options.toleranceSeconds, nowSeconds);
  return key ? { valid: false as const, key } : { valid: true as const, claims: readClaims(payload, options) };
}
const check = (payload: IntrospectionPayload, options = reading) => checkPayload(payload, options, NOW);

describe('timeClaimsRejection and readClaims', () => {
  describe('exp', () => {
    it('accepts a token that expires in the future', () => {
      expect(check({ exp: NOW + 60 }).valid).toBe(true);
    });

    it('refuses a token that expired beyond the tolerance', () => {
      expect(check({ exp: NOW - 60 })).toEqual({ valid: false, key: OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN });
    });

    it('accepts a token that expired within the tolerance', () => {
      expect(check({ exp: NOW - 4 }).valid).toBe(true);
    });

    it('refuses a token whose exp plus tolerance is exactly now (exp is exclusive)', () => {
      expect(check({ exp: NOW - 5 })).toEqual({ valid: false, key: OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN });
    });

    it('has no tolerance when it is 0', () => {
      const strict = { ...reading, toleranceSeconds: 0 };
      expect(check({ exp: NOW }, strict)).toEqual({ valid: false, key: OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN });
      expect(check({ exp: NOW + 1 }, strict).valid).toBe(true);
    });

    it('accepts a token without exp', () => {
      expect(check({}).valid).toBe(true);
    });

    it('uses the current time by default', () => {
      const now = Date.now() / 1000;
      expect(checkPayload({ exp: now - 60 }, reading).valid).toBe(false);
      expect(checkPayload({ exp: now + 60 }, reading).valid).toBe(true);
    });
  });

  describe('nbf', () => {
    it('refuses a token not valid before a time beyond the tolerance', () => {
      expect(check({ nbf: NOW + 60 })).toEqual({ valid: false, key: OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN });
    });

    it('accepts a token whose nbf is within the tolerance', () => {
      expect(check({ nbf: NOW + 5 }).valid).toBe(true);
      expect(check({ nbf: NOW + 6 }).valid).toBe(false);
    });

    it('accepts a token whose nbf is past', () => {
      expect(check({ nbf: NOW - 3600, exp: NOW + 3600 }).valid).toBe(true);
    });
  });

  describe('time claims that are not numbers are an invalid server response', () => {
    it.each([
      ['exp as a string', { exp: String(NOW + 60) }],
      ['exp as null', { exp: null }],
      ['exp as NaN', { exp: Number.NaN }],
      ['exp as Infinity', { exp: Number.POSITIVE_INFINITY }],
      ['nbf as a string', { nbf: String(NOW - 60) }],
      ['nbf as an object', { nbf: {} }],
    ])('%s', (_, payload) => {
      expect(check(payload)).toEqual({ valid: false, key: OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE });
    });
  });

  describe('the claims of a valid payload', () => {
    it('are its client, user and scopes', () => {
      expect(check({ client_id: 'app', sub: 'alice', scope: 'a b', exp: NOW + 60 })).toEqual({
        valid: true,
        claims: { clientId: 'app', user: 'alice', scopes: ['a', 'b'] },
      });
    });

    it('read the user from the userClaim', () => {
      const result = check({ sub: 'alice', username: 'bob' }, { ...reading, userClaim: 'username' });
      expect(result).toEqual({ valid: true, claims: { clientId: undefined, user: 'bob', scopes: [] } });
    });

    it('have no user when the userClaim is missing, empty or not a string', () => {
      for (const sub of [undefined, '', { id: 1 }, ['alice'], true]) {
        const result = check({ sub });
        expect(result.valid && result.claims.user).toBeUndefined();
      }
    });

    it('split the scopes on the resource scopeSeparator', () => {
      const result = check({ scope: 'a,b c' }, { ...reading, scopeSeparator: ',' });
      expect(result.valid && result.claims.scopes).toEqual(['a', 'b c']);
    });

    it('read scp when there is no scope', () => {
      const result = check({ scp: ['x'] });
      expect(result.valid && result.claims.scopes).toEqual(['x']);
    });
  });
});

describe('readClientId', () => {
  it('is client_id when there is one', () => {
    expect(readClientId({ client_id: 'app', aud: 'other' })).toBe('app');
  });

  it('falls back to aud when it is a string', () => {
    expect(readClientId({ aud: 'api' })).toBe('api');
  });

  it('falls back to the first element of an aud array', () => {
    expect(readClientId({ aud: ['first', 'second'] })).toBe('first');
  });

  it('falls back to aud when client_id is empty or not a string', () => {
    expect(readClientId({ client_id: '', aud: 'api' })).toBe('api');
    expect(readClientId({ client_id: { id: 'x' }, aud: 'api' })).toBe('api');
  });

  it.each([
    ['no aud', {}],
    ['an empty aud array', { aud: [] }],
    ['an aud array whose first element is not a string', { aud: [{ id: 'x' }, 'second'] }],
    ['an object aud', { aud: { id: 'x' } }],
    ['a boolean aud', { aud: true }],
    ['a null aud', { aud: null }],
    ['an empty aud', { aud: '' }],
  ])('is undefined with %s', (_, payload) => {
    expect(readClientId(payload)).toBeUndefined();
  });
});
