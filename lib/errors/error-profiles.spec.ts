import type { OAuth2ErrorProfile } from '../interfaces/module-options.interface';
import { renderErrorResponse, wwwAuthenticate } from './error-response';
import { ERROR_PROFILES, ERROR_PROFILE_TABLES } from './error-profiles';
import { OAuth2ErrorKey } from './oauth2-error-key.enum';
import { OAuth2Exception } from './oauth2.exception';

const K = OAuth2ErrorKey;
const REALM = 'orders';
const plain = `Bearer realm="${REALM}"`;
const scoped = (key: OAuth2ErrorKey) =>
  key === K.OAUTH2_INSUFFICIENT_SCOPE
    ? new OAuth2Exception(key, { requiredScopes: ['a', 'b'] })
    : new OAuth2Exception(key);

/**
 * The three profiles, written out from the specification (behaviour.md §5, issue 5), not derived from
 * the library's tables: [status, WWW-Authenticate, Retry-After].
 */
const EXPECTED: Record<OAuth2ErrorProfile, Record<OAuth2ErrorKey, [number, string | undefined, string | undefined]>> = {
  documented: {
    [K.OAUTH2_MISSING_SERVER]: [401, undefined, undefined],
    [K.OAUTH2_MISSING_HEADER]: [401, plain, undefined],
    [K.OAUTH2_MISSING_ACCESS_TOKEN]: [401, plain, undefined],
    [K.OAUTH2_INVALID_ACCESS_TOKEN]: [401, `${plain}, error="invalid_token"`, undefined],
    [K.OAUTH2_INVALID_SERVER_RESPONSE]: [403, plain, undefined],
    [K.OAUTH2_SERVER_UNAVAILABLE]: [403, plain, undefined],
    [K.OAUTH2_INSUFFICIENT_SCOPE]: [403, `${plain}, error="insufficient_scope", scope="a b"`, undefined],
  },
  gateway: {
    [K.OAUTH2_MISSING_SERVER]: [401, undefined, undefined],
    [K.OAUTH2_MISSING_HEADER]: [401, plain, undefined],
    [K.OAUTH2_MISSING_ACCESS_TOKEN]: [401, plain, undefined],
    [K.OAUTH2_INVALID_ACCESS_TOKEN]: [401, `${plain}, error="invalid_token"`, undefined],
    [K.OAUTH2_INVALID_SERVER_RESPONSE]: [401, plain, undefined],
    [K.OAUTH2_SERVER_UNAVAILABLE]: [503, plain, undefined],
    [K.OAUTH2_INSUFFICIENT_SCOPE]: [401, `${plain}, error="insufficient_scope", scope="a b"`, undefined],
  },
  rfc: {
    [K.OAUTH2_MISSING_SERVER]: [403, undefined, undefined],
    [K.OAUTH2_MISSING_HEADER]: [401, plain, undefined],
    [K.OAUTH2_MISSING_ACCESS_TOKEN]: [400, `${plain}, error="invalid_request"`, undefined],
    [K.OAUTH2_INVALID_ACCESS_TOKEN]: [401, `${plain}, error="invalid_token"`, undefined],
    [K.OAUTH2_INVALID_SERVER_RESPONSE]: [503, undefined, '7'],
    [K.OAUTH2_SERVER_UNAVAILABLE]: [503, undefined, '7'],
    [K.OAUTH2_INSUFFICIENT_SCOPE]: [403, `${plain}, error="insufficient_scope", scope="a b"`, undefined],
  },
};

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  503: 'Service Unavailable',
};

describe('error profiles', () => {
  it('has the three profiles, documented first (the default)', () => {
    expect(ERROR_PROFILES).toEqual(['documented', 'gateway', 'rfc']);
    expect(Object.keys(ERROR_PROFILE_TABLES).sort()).toEqual(['documented', 'gateway', 'rfc']);
  });

  describe.each(ERROR_PROFILES)('%s', (profile) => {
    it.each(Object.values(OAuth2ErrorKey))('answers %s as the specification says', (key) => {
      const [status, challenge, retryAfter] = EXPECTED[profile][key];
      const rendered = renderErrorResponse(scoped(key), 'application/json', {
        realm: REALM,
        responseTemplates: {},
        errorProfile: profile,
        retryAfterSeconds: 7,
      });
      expect(rendered.status).toBe(status);
      expect(rendered.headers['WWW-Authenticate']).toBe(challenge);
      expect(rendered.headers['Retry-After']).toBe(retryAfter);
      expect(Object.keys(rendered.headers).sort()).toEqual(
        [challenge && 'WWW-Authenticate', retryAfter && 'Retry-After'].filter(Boolean).sort(),
      );
      // The body states the status actually sent; the message and key stay.
      expect(rendered.body).toEqual({
        statusCode: status,
        error: REASONS[status],
        message: (scoped(key).getResponse() as { message: string }).message,
        key,
      });
      expect(wwwAuthenticate(scoped(key), REALM, profile)).toBe(challenge);
    });
  });

  describe('a malformed request (a token outside b64token, several credentials: details.invalidRequest)', () => {
    const malformed = new OAuth2Exception(K.OAUTH2_INVALID_ACCESS_TOKEN, { invalidRequest: true });
    it.each<[OAuth2ErrorProfile, number, string]>([
      ['documented', 401, `${plain}, error="invalid_token"`],
      ['gateway', 401, `${plain}, error="invalid_token"`],
      ['rfc', 400, `${plain}, error="invalid_request"`],
    ])('is answered under %s with %i and %s', (profile, status, challenge) => {
      const rendered = renderErrorResponse(malformed, undefined, {
        realm: REALM,
        responseTemplates: {},
        errorProfile: profile,
      });
      expect(rendered).toEqual({
        status,
        headers: { 'WWW-Authenticate': challenge },
        body: {
          statusCode: status,
          error: REASONS[status],
          message: 'Access token can not be validated by authorization server',
          key: K.OAUTH2_INVALID_ACCESS_TOKEN,
        },
      });
      expect(wwwAuthenticate(malformed, REALM, profile)).toBe(challenge);
    });

    it('keeps the key, so its response templates apply', () => {
      const rendered = renderErrorResponse(malformed, undefined, {
        realm: REALM,
        errorProfile: 'rfc',
        responseTemplates: { OAUTH2_INVALID_ACCESS_TOKEN: { '*/*': { body: 'bad token' } } },
      });
      expect([rendered.status, rendered.body]).toEqual([400, 'bad token']);
    });
  });

  it('is documented when no profile is given, and uses a 5 s Retry-After by default', () => {
    const unavailable = new OAuth2Exception(K.OAUTH2_SERVER_UNAVAILABLE);
    expect(renderErrorResponse(unavailable, undefined, { realm: REALM, responseTemplates: {} }).status).toBe(403);
    expect(
      renderErrorResponse(unavailable, undefined, { realm: REALM, responseTemplates: {}, errorProfile: 'rfc' }).headers,
    ).toEqual({
      'Retry-After': '5',
    });
  });

  describe('response templates on top of a profile', () => {
    const unavailable = new OAuth2Exception(K.OAUTH2_SERVER_UNAVAILABLE);

    it('override its status, and keep its headers unless they name them', () => {
      const rendered = renderErrorResponse(unavailable, 'text/plain', {
        realm: REALM,
        errorProfile: 'rfc',
        retryAfterSeconds: 5,
        responseTemplates: { OAUTH2_SERVER_UNAVAILABLE: { '*/*': { status: 502, body: 'upstream down' } } },
      });
      expect(rendered).toEqual({
        status: 502,
        headers: { 'Retry-After': '5', 'Content-Type': 'text/plain; charset=utf-8' },
        body: 'upstream down',
      });
    });

    it('replace the profile’s Retry-After and challenge when they set them', () => {
      const rendered = renderErrorResponse(unavailable, undefined, {
        realm: REALM,
        errorProfile: 'rfc',
        responseTemplates: {
          OAUTH2_SERVER_UNAVAILABLE: {
            '*/*': { headers: { 'Retry-After': '60', 'WWW-Authenticate': 'Bearer realm="x"' } },
          },
        },
      });
      expect(rendered.status).toBe(503);
      expect(rendered.headers).toEqual({ 'Retry-After': '60', 'WWW-Authenticate': 'Bearer realm="x"' });
      expect(rendered.body).toMatchObject({
        statusCode: 503,
        error: 'Service Unavailable',
        key: 'OAUTH2_SERVER_UNAVAILABLE',
      });
    });

    it('keep the default body in step with a status they change under the gateway profile', () => {
      const rendered = renderErrorResponse(new OAuth2Exception(K.OAUTH2_INSUFFICIENT_SCOPE), undefined, {
        realm: REALM,
        errorProfile: 'gateway',
        responseTemplates: { OAUTH2_INSUFFICIENT_SCOPE: { '*/*': { status: 403 } } },
      });
      expect(rendered.status).toBe(403);
      expect(rendered.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    });
  });
});
