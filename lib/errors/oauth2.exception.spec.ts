import { HttpException } from '@nestjs/common';
import { OAUTH2_ERROR_KEYS, OAuth2ErrorKey } from './oauth2-error-key.enum';
import { OAuth2Exception } from './oauth2.exception';

const TECHNICAL = 'Access token can not be validated because of a technical error with authorization server';

describe('OAuth2Exception', () => {
  it.each([
    [
      OAuth2ErrorKey.OAUTH2_MISSING_SERVER,
      401,
      'Unauthorized',
      'No OAuth Authorization Server resource has been configured',
    ],
    [OAuth2ErrorKey.OAUTH2_MISSING_HEADER, 401, 'Unauthorized', 'No OAuth authorization header was supplied'],
    [OAuth2ErrorKey.OAUTH2_MISSING_ACCESS_TOKEN, 401, 'Unauthorized', 'No OAuth access token was supplied'],
    [
      OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN,
      401,
      'Unauthorized',
      'Access token can not be validated by authorization server',
    ],
    [OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE, 403, 'Forbidden', TECHNICAL],
    [OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE, 403, 'Forbidden', TECHNICAL],
    [
      OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE,
      403,
      'Forbidden',
      'One of the required scopes was missing while introspecting access token',
    ],
  ])('%s is %i with the documented message', (key, status, error, message) => {
    const exception = new OAuth2Exception(key);
    expect(exception.getStatus()).toBe(status);
    expect(exception.getResponse()).toEqual({ statusCode: status, error, message, key });
    expect(exception.message).toBe(message);
    expect(exception.key).toBe(key);
  });

  it('covers every key of OAuth2ErrorKey, and there are seven', () => {
    expect(OAUTH2_ERROR_KEYS).toHaveLength(7);
    for (const key of OAUTH2_ERROR_KEYS) {
      expect(OAuth2ErrorKey[key]).toBe(key);
      expect(new OAuth2Exception(key).getStatus()).toBeGreaterThanOrEqual(400);
    }
  });

  it('is an HttpException named OAuth2Exception, so that Nest renders it even without the module filter', () => {
    const exception = new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER);
    expect(exception).toBeInstanceOf(HttpException);
    expect(exception.name).toBe('OAuth2Exception');
  });

  it('carries its details, none by default', () => {
    expect(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE, { requiredScopes: ['a'] }).details).toEqual({
      requiredScopes: ['a'],
    });
    expect(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE).details).toEqual({});
  });
});
