import { OAuth2ConfigurationError } from './oauth2-configuration.error';
import { validateModuleOptions } from '../options/validate-options';
import {
  MAX_REQUEST_ID_LENGTH,
  escaperFor,
  fillPlaceholders,
  requestIdOf,
  unknownPlaceholders,
} from './template-placeholders';

const values = {
  key: 'OAUTH2_MISSING_HEADER',
  status: '401',
  message: 'No OAuth authorization header was supplied',
  requestId: 'a"b<c>&d\n',
  requiredScopes: 'read write',
} as const;

describe('response template placeholders', () => {
  it.each([
    ['application/json', 'a\\"b<c>&d\\n'],
    ['application/problem+json; charset=utf-8', 'a\\"b<c>&d\\n'],
    ['application/xml', 'a&quot;b&lt;c&gt;&amp;d\n'],
    ['text/html; charset=utf-8', 'a&quot;b&lt;c&gt;&amp;d\n'],
    ['application/atom+xml', 'a&quot;b&lt;c&gt;&amp;d\n'],
    ['text/plain; charset=utf-8', 'a"b<c>&d\n'],
    [undefined, 'a"b<c>&d\n'],
  ])('escapes for %s', (contentType, expected) => {
    expect(escaperFor(contentType)(values.requestId)).toBe(expected);
  });

  it('fills a string body, spaces inside the braces allowed, and leaves other braces alone', () => {
    expect(fillPlaceholders('{{key}} {{ status }} {x} {{requiredScopes}}', values, 'text/plain')).toBe(
      'OAUTH2_MISSING_HEADER 401 {x} read write',
    );
  });

  it('a value holding a placeholder is not filled again', () => {
    expect(fillPlaceholders('{{requestId}}', { ...values, requestId: '{{key}}' }, 'text/plain')).toBe('{{key}}');
  });

  it('fills the string values of an object body, not its keys, and does not change the template', () => {
    const body = Object.freeze({ '{{key}}': '{{key}}', nested: { list: ['{{status}}', 1, null, true] } });
    expect(fillPlaceholders(body, values, 'application/json')).toEqual({
      '{{key}}': 'OAUTH2_MISSING_HEADER',
      nested: { list: ['401', 1, null, true] },
    });
    expect(body['{{key}}']).toBe('{{key}}');
  });

  it('gives back a body without placeholders as it is', () => {
    const body = { error: 'x' };
    expect(fillPlaceholders(body, values, 'application/json')).toBe(body);
  });

  it('finds unknown names, with where they are', () => {
    expect(unknownPlaceholders({ a: '{{token}}', b: ['{{key}}', '{{ payload }}'] }, 'body')).toEqual([
      { field: 'body.a', name: 'token' },
      { field: 'body.b[1]', name: 'payload' },
    ]);
    expect(unknownPlaceholders('{{Key}}', 'body')).toEqual([{ field: 'body', name: 'Key' }]);
  });

  it('refuses an unknown placeholder at start-up, naming the field', () => {
    const start = () =>
      validateModuleOptions({
        resources: [{ name: 'as', type: 'generic', introspectionEndpoint: 'https://as.example.com/i' }],
        responseTemplates: {
          OAUTH2_MISSING_HEADER: { '*/*': { body: { error: { token: '{{token}}' } } } },
        },
      });
    expect(start).toThrow(OAuth2ConfigurationError);
    expect(start).toThrow(
      "responseTemplates.OAUTH2_MISSING_HEADER['*/*'].body.error.token uses {{token}}, which is not a placeholder",
    );
  });

  describe('requestIdOf', () => {
    it.each([
      [{ id: 'req-7', headers: { 'x-request-id': 'h' } }, 'req-7'],
      [{ id: 42, headers: {} }, '42'],
      [{ headers: { 'x-request-id': 'h-1' } }, 'h-1'],
      [{ headers: { 'x-request-id': ['first', 'second'] } }, 'first'],
      [{ id: '', headers: { 'x-request-id': 'h-2' } }, 'h-2'],
      [{ id: { toString: () => 'x' }, headers: {} }, ''],
      [{ headers: {} }, ''],
      [undefined, ''],
    ])('%j gives %p', (request, expected) => {
      expect(requestIdOf(request)).toBe(expected);
    });

    it('cuts a long id', () => {
      expect(requestIdOf({ headers: { 'x-request-id': 'x'.repeat(5000) } })).toHaveLength(MAX_REQUEST_ID_LENGTH);
    });
  });
});
