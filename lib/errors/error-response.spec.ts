import type { OAuth2ResponseTemplate, OAuth2ResponseTemplates } from '../interfaces/response-template.interface';
import { acceptedRanges, chooseTemplate, renderErrorResponse, wwwAuthenticate } from './error-response';
import { OAuth2ErrorKey } from './oauth2-error-key.enum';
import { OAuth2Exception } from './oauth2.exception';

const REALM = 'orders';

describe('wwwAuthenticate', () => {
  it('has no challenge for OAUTH2_MISSING_SERVER: the fault is the configuration, not the client', () => {
    expect(wwwAuthenticate(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_SERVER), REALM)).toBeUndefined();
  });

  it.each([
    OAuth2ErrorKey.OAUTH2_MISSING_HEADER,
    OAuth2ErrorKey.OAUTH2_MISSING_ACCESS_TOKEN,
    OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE,
    OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE,
  ])('challenges without an error code for %s', (key) => {
    expect(wwwAuthenticate(new OAuth2Exception(key), REALM)).toBe('Bearer realm="orders"');
  });

  it('says invalid_token for a refused token', () => {
    expect(wwwAuthenticate(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN), REALM)).toBe(
      'Bearer realm="orders", error="invalid_token"',
    );
  });

  it('says insufficient_scope with the required scopes', () => {
    const exception = new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE, { requiredScopes: ['a', 'b'] });
    expect(wwwAuthenticate(exception, REALM)).toBe('Bearer realm="orders", error="insufficient_scope", scope="a b"');
  });

  it('says insufficient_scope without scope when none is known', () => {
    expect(wwwAuthenticate(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE), REALM)).toBe(
      'Bearer realm="orders", error="insufficient_scope"',
    );
  });
});

describe('acceptedRanges', () => {
  it('is */* when there is no Accept header', () => {
    expect(acceptedRanges(undefined)).toEqual(['*/*']);
    expect(acceptedRanges('')).toEqual(['*/*']);
  });

  it('keeps the order of ranges of equal weight', () => {
    expect(acceptedRanges('text/html, application/json,*/*')).toEqual(['text/html', 'application/json', '*/*']);
  });

  it('sorts by q-value, highest first', () => {
    expect(acceptedRanges('text/html;q=0.5, application/json, text/plain;q=0.8, */*;q=0.1')).toEqual([
      'application/json',
      'text/plain',
      'text/html',
      '*/*',
    ]);
  });

  it('drops ranges with q=0 and ranges that are not media ranges', () => {
    expect(acceptedRanges('application/json;q=0, text/plain, garbage, */*;q=0')).toEqual(['text/plain']);
  });

  it('lower-cases ranges and ignores other parameters', () => {
    expect(acceptedRanges('Application/JSON; charset=utf-8; q=0.9')).toEqual(['application/json']);
  });
});

describe('chooseTemplate', () => {
  const json: OAuth2ResponseTemplate = { body: 'json' };
  const text: OAuth2ResponseTemplate = { body: 'text' };
  const anyText: OAuth2ResponseTemplate = { body: 'any text' };
  const fallback: OAuth2ResponseTemplate = { body: 'fallback' };

  it('takes the template of the exact media type', () => {
    expect(chooseTemplate({ 'application/json': json, 'text/plain': text }, 'text/plain')).toEqual([
      'text/plain',
      text,
    ]);
  });

  it('matches media types case-insensitively', () => {
    expect(chooseTemplate({ 'Application/JSON': json }, 'application/json')).toEqual(['application/json', json]);
  });

  it('follows the preference of the Accept header', () => {
    const templates = { 'application/json': json, 'text/plain': text };
    expect(chooseTemplate(templates, 'text/plain;q=0.5, application/json')).toEqual(['application/json', json]);
    expect(chooseTemplate(templates, 'text/plain, application/json')).toEqual(['text/plain', text]);
  });

  it('skips preferred types that have no template', () => {
    expect(chooseTemplate({ 'text/plain': text }, 'application/xml, text/plain;q=0.5')).toEqual(['text/plain', text]);
  });

  it('matches a type/* range of the Accept header', () => {
    expect(chooseTemplate({ 'application/json': json, 'text/plain': text }, 'text/*')).toEqual(['text/plain', text]);
  });

  it('matches a template keyed by type/*', () => {
    expect(chooseTemplate({ 'application/json': json, 'text/*': anyText }, 'text/html')).toEqual(['text/*', anyText]);
  });

  it('prefers the exact type to a type/* template listed before it', () => {
    expect(chooseTemplate({ 'text/*': anyText, 'text/plain': text }, 'text/plain')).toEqual(['text/plain', text]);
  });

  it('falls back to the */* template when no type matches', () => {
    expect(chooseTemplate({ 'application/json': json, '*/*': fallback }, 'text/html')).toEqual(['*/*', fallback]);
  });

  it('takes the */* template for a request without Accept, or accepting anything', () => {
    const templates = { 'application/json': json, '*/*': fallback };
    expect(chooseTemplate(templates, undefined)).toEqual(['*/*', fallback]);
    expect(chooseTemplate(templates, '*/*')).toEqual(['*/*', fallback]);
  });

  it('goes by rank: */* first in Accept takes the fallback, */* with a lower q does not', () => {
    expect(chooseTemplate({ 'application/json': json, '*/*': fallback }, '*/*, application/json')).toEqual([
      '*/*',
      fallback,
    ]);
    expect(chooseTemplate({ 'application/json': json, '*/*': fallback }, '*/*;q=0.1, application/json')).toEqual([
      'application/json',
      json,
    ]);
  });

  it('finds nothing when no type matches and there is no */* template', () => {
    expect(chooseTemplate({ 'application/json': json }, 'text/html')).toBeUndefined();
    expect(chooseTemplate({ 'application/json': json }, 'application/json;q=0')).toBeUndefined();
  });
});

describe('renderErrorResponse', () => {
  const settings = (responseTemplates: OAuth2ResponseTemplates = {}) => ({ realm: REALM, responseTemplates });

  describe('without a template', () => {
    it('answers the key default status, JSON body and challenge', () => {
      const rendered = renderErrorResponse(
        new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER),
        'application/json',
        settings(),
      );
      expect(rendered).toEqual({
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer realm="orders"' },
        body: {
          statusCode: 401,
          error: 'Unauthorized',
          message: 'No OAuth authorization header was supplied',
          key: 'OAUTH2_MISSING_HEADER',
        },
      });
    });

    it('sends no WWW-Authenticate for OAUTH2_MISSING_SERVER', () => {
      expect(
        renderErrorResponse(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_SERVER), undefined, settings()).headers,
      ).toEqual({});
    });

    it('ignores the templates of other keys', () => {
      const rendered = renderErrorResponse(
        new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER),
        undefined,
        settings({ OAUTH2_SERVER_UNAVAILABLE: { '*/*': { status: 503 } } }),
      );
      expect(rendered.status).toBe(401);
    });

    it('keeps the defaults when no template matches the Accept header', () => {
      const rendered = renderErrorResponse(
        new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER),
        'text/html',
        settings({ OAUTH2_MISSING_HEADER: { 'application/json': { status: 400 } } }),
      );
      expect(rendered.status).toBe(401);
    });
  });

  describe('with a matching template', () => {
    const unavailable = new OAuth2Exception(OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE);

    it('takes its status, headers and string body, typed by the template media type', () => {
      const rendered = renderErrorResponse(
        unavailable,
        'application/json',
        settings({
          OAUTH2_SERVER_UNAVAILABLE: {
            'application/json': {
              status: 503,
              headers: { 'Retry-After': '5' },
              body: '{"error":"temporarily_unavailable"}',
            },
          },
        }),
      );
      expect(rendered).toEqual({
        status: 503,
        headers: {
          'WWW-Authenticate': 'Bearer realm="orders"',
          'Retry-After': '5',
          'Content-Type': 'application/json; charset=utf-8',
        },
        body: '{"error":"temporarily_unavailable"}',
      });
    });

    it('sends a string body of a wildcard template as text/plain', () => {
      const rendered = renderErrorResponse(
        unavailable,
        'text/html',
        settings({ OAUTH2_SERVER_UNAVAILABLE: { '*/*': { body: 'temporarily unavailable' } } }),
      );
      expect(rendered.status).toBe(403);
      expect(rendered.headers['Content-Type']).toBe('text/plain; charset=utf-8');
      expect(rendered.body).toBe('temporarily unavailable');
    });

    it('sends an object body as JSON', () => {
      const rendered = renderErrorResponse(
        unavailable,
        'text/plain',
        settings({ OAUTH2_SERVER_UNAVAILABLE: { 'text/plain': { body: { error: 'down' } } } }),
      );
      expect(rendered.headers['Content-Type']).toBe('application/json; charset=utf-8');
      expect(rendered.body).toEqual({ error: 'down' });
    });

    it('keeps a Content-Type the template sets, whatever its case', () => {
      const rendered = renderErrorResponse(
        unavailable,
        undefined,
        settings({
          OAUTH2_SERVER_UNAVAILABLE: { '*/*': { headers: { 'content-type': 'application/problem+json' }, body: '{}' } },
        }),
      );
      expect(rendered.headers).toEqual({
        'WWW-Authenticate': 'Bearer realm="orders"',
        'content-type': 'application/problem+json',
      });
    });

    it('replaces the challenge when it sets WWW-Authenticate', () => {
      const rendered = renderErrorResponse(
        new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN),
        undefined,
        settings({
          OAUTH2_INVALID_ACCESS_TOKEN: { '*/*': { headers: { 'WWW-Authenticate': 'Bearer realm="other"' } } },
        }),
      );
      expect(rendered.headers['WWW-Authenticate']).toBe('Bearer realm="other"');
    });

    it('keeps the default body, and adds no Content-Type, when it sets no body', () => {
      const rendered = renderErrorResponse(
        new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER),
        undefined,
        settings({ OAUTH2_MISSING_HEADER: { '*/*': { headers: { 'X-Reason': 'no header' } } } }),
      );
      expect(rendered.status).toBe(401);
      expect(rendered.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="orders"', 'X-Reason': 'no header' });
      expect(rendered.body).toEqual(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER).getResponse());
    });

    it('keeps the statusCode of the default body in step with a status it changes', () => {
      const rendered = renderErrorResponse(
        unavailable,
        undefined,
        settings({ OAUTH2_SERVER_UNAVAILABLE: { '*/*': { status: 503 } } }),
      );
      expect(rendered.status).toBe(503);
      expect(rendered.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Access token can not be validated because of a technical error with authorization server',
        key: 'OAUTH2_SERVER_UNAVAILABLE',
      });
    });
  });
});
