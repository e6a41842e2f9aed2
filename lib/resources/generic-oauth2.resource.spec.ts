import type { GenericOAuth2ResourceOptions } from '../interfaces/resource-options.interface';
import { GenericOAuth2Resource, genericResourceSettings } from './generic-oauth2.resource';

const ENDPOINT = 'https://as.example.com/oauth/introspect';
const resources: GenericOAuth2Resource[] = [];

/** A generic resource with the given options over the defaults; building requests uses no network. */
function resource(options: Partial<GenericOAuth2ResourceOptions> = {}): GenericOAuth2Resource {
  const built = new GenericOAuth2Resource(
    genericResourceSettings({ name: 'as', type: 'generic', introspectionEndpoint: ENDPOINT, ...options }),
  );
  resources.push(built);
  return built;
}

/** The `user:password` of a Basic header value. */
function decodeBasic(value: string | undefined): string {
  const match = /^Basic (.+)$/.exec(value ?? '');
  if (!match) {
    throw new Error(`not a Basic credential: ${value}`);
  }
  return Buffer.from(match[1], 'base64').toString('utf8');
}

afterAll(() => resources.forEach((built) => built.close()));

describe('GenericOAuth2Resource', () => {
  describe('the default introspection request (RFC 7662)', () => {
    const request = resource({ clientId: 'api', clientSecret: 's3cret' }).buildIntrospectionRequest('tok');

    it('is a POST to the endpoint, without query', () => {
      expect(request.method).toBe('POST');
      expect(request.url).toBe(ENDPOINT);
    });

    it('sends the token and its type hint in a form body', () => {
      expect(request.body).toBe('token=tok&token_type_hint=access_token');
      expect(request.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    });

    it('authenticates the client with a Basic header and asks for JSON', () => {
      expect(decodeBasic(request.headers.Authorization)).toBe('api:s3cret');
      expect(request.headers.Accept).toBe('application/json');
    });

    it('sends no Authorization header when there is no clientId', () => {
      const anonymous = resource().buildIntrospectionRequest('tok');
      expect(anonymous.headers).not.toHaveProperty('Authorization');
      expect(anonymous.body).toBe('token=tok&token_type_hint=access_token');
    });
  });

  it('form-encodes client id and secret before base64 (RFC 6749 §2.3.1)', () => {
    const request = resource({ clientId: 'my app:1', clientSecret: 'a:b%c+d e' }).buildIntrospectionRequest('tok');
    expect(decodeBasic(request.headers.Authorization)).toBe('my+app%3A1:a%3Ab%25c%2Bd+e');
  });

  it('form-encodes the token in the body: "&" and "=" inject no field', () => {
    const request = resource().buildIntrospectionRequest('a&token_type_hint=refresh_token=b c');
    const form = new URLSearchParams(request.body);
    expect(form.getAll('token')).toEqual(['a&token_type_hint=refresh_token=b c']);
    expect(form.getAll('token_type_hint')).toEqual(['access_token']);
  });

  describe('with introspectionEndpointMethod GET', () => {
    it('puts the token and its hint in the query string, and sends no body', () => {
      const request = resource({
        introspectionEndpointMethod: 'GET',
        clientId: 'api',
        clientSecret: 's',
      }).buildIntrospectionRequest('tok');
      expect(request.method).toBe('GET');
      expect(request.url).toBe(`${ENDPOINT}?token=tok&token_type_hint=access_token`);
      expect(request.body).toBeUndefined();
      expect(request.headers).not.toHaveProperty('Content-Type');
      expect(decodeBasic(request.headers.Authorization)).toBe('api:s');
    });

    it('URL-encodes the token: "&" and "=" inject no parameter', () => {
      const request = resource({ introspectionEndpointMethod: 'GET' }).buildIntrospectionRequest('a&admin=true#b');
      const url = new URL(request.url);
      expect(url.hash).toBe('');
      expect(url.searchParams.getAll('token')).toEqual(['a&admin=true#b']);
      expect(url.searchParams.has('admin')).toBe(false);
    });

    it('keeps the query the endpoint already has', () => {
      const request = resource({
        introspectionEndpointMethod: 'GET',
        introspectionEndpoint: `${ENDPOINT}?tenant=t1`,
      }).buildIntrospectionRequest('tok');
      expect(request.url).toBe(`${ENDPOINT}?tenant=t1&token=tok&token_type_hint=access_token`);
    });

    it('never sends the client secret in the URL when the Basic header is off', () => {
      const request = resource({
        introspectionEndpointMethod: 'GET',
        clientId: 'api',
        clientSecret: 'hidden',
        useClientAuthorizationHeader: false,
      }).buildIntrospectionRequest('tok');
      expect(request.url).not.toContain('hidden');
      expect(request.url).toBe(`${ENDPOINT}?token=tok&token_type_hint=access_token`);
    });
  });

  it('sends the token in both query and form when both are on, the hint in the form only', () => {
    const request = resource({
      tokenIsSuppliedByQueryParam: true,
      tokenIsSuppliedByFormUrlEncoded: true,
    }).buildIntrospectionRequest('tok');
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`${ENDPOINT}?token=tok`);
    expect(request.body).toBe('token=tok&token_type_hint=access_token');
  });

  it('sends only the query token when the query option is on and the form option is not set', () => {
    const request = resource({ tokenIsSuppliedByQueryParam: true }).buildIntrospectionRequest('tok');
    expect(request.url).toBe(`${ENDPOINT}?token=tok&token_type_hint=access_token`);
    expect(request.body).toBeUndefined();
  });

  describe('with the token in a header', () => {
    const request = resource({
      tokenIsSuppliedByHttpHeader: true,
      tokenHeaderName: 'X-Token',
      clientId: 'api',
      clientSecret: 's',
    }).buildIntrospectionRequest('tok');

    it('sends it in tokenHeaderName only', () => {
      expect(request.headers['X-Token']).toBe('tok');
      expect(request.url).toBe(ENDPOINT);
      expect(request.body).toBeUndefined();
      expect(request.headers).not.toHaveProperty('Content-Type');
    });

    it('still authenticates the client', () => {
      expect(decodeBasic(request.headers.Authorization)).toBe('api:s');
    });
  });

  it('uses custom form and query parameter names', () => {
    const form = resource({ tokenFormUrlEncodedName: 'access_token' }).buildIntrospectionRequest('tok');
    expect(form.body).toBe('access_token=tok&token_type_hint=access_token');
    const query = resource({ introspectionEndpointMethod: 'GET', tokenQueryParamName: 'at' }).buildIntrospectionRequest(
      'tok',
    );
    expect(query.url).toBe(`${ENDPOINT}?at=tok&token_type_hint=access_token`);
  });

  it('uses a custom client authorization header name and scheme', () => {
    const request = resource({
      clientId: 'api',
      clientSecret: 's',
      clientAuthorizationHeaderName: 'X-Client-Auth',
      clientAuthorizationHeaderScheme: 'Client',
    }).buildIntrospectionRequest('tok');
    expect(request.headers).not.toHaveProperty('Authorization');
    expect(request.headers['X-Client-Auth']).toBe(`Client ${Buffer.from('api:s').toString('base64')}`);
  });

  it('sends the bare credentials when the scheme is empty', () => {
    const request = resource({
      clientId: 'api',
      clientSecret: 's',
      clientAuthorizationHeaderScheme: '',
    }).buildIntrospectionRequest('tok');
    expect(request.headers.Authorization).toBe(Buffer.from('api:s').toString('base64'));
  });

  describe('with useClientAuthorizationHeader false', () => {
    it('sends client_id and client_secret in the form body, and no Authorization header', () => {
      const request = resource({
        clientId: 'api',
        clientSecret: 'a&b=c',
        useClientAuthorizationHeader: false,
      }).buildIntrospectionRequest('tok');
      expect(request.headers).not.toHaveProperty('Authorization');
      expect(request.body).toBe('token=tok&token_type_hint=access_token&client_id=api&client_secret=a%26b%3Dc');
    });

    it('makes a form body even when the token goes in a header', () => {
      const request = resource({
        clientId: 'api',
        clientSecret: 's',
        useClientAuthorizationHeader: false,
        tokenIsSuppliedByHttpHeader: true,
        tokenHeaderName: 'X-Token',
      }).buildIntrospectionRequest('tok');
      expect(request.body).toBe('client_id=api&client_secret=s');
      expect(request.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    });
  });

  it('sends no token_type_hint when tokenTypeHint is false, and a custom one when set', () => {
    expect(resource({ tokenTypeHint: false }).buildIntrospectionRequest('tok').body).toBe('token=tok');
    expect(
      resource({ introspectionEndpointMethod: 'GET', tokenTypeHint: false }).buildIntrospectionRequest('tok').url,
    ).toBe(`${ENDPOINT}?token=tok`);
    expect(resource({ tokenTypeHint: 'refresh_token' }).buildIntrospectionRequest('tok').body).toBe(
      'token=tok&token_type_hint=refresh_token',
    );
  });

  describe('endpoint resolution', () => {
    it.each([
      ['https://as.example.com/realms/main', '/protocol/introspect'],
      ['https://as.example.com/realms/main/', '/protocol/introspect'],
      ['https://as.example.com/realms/main///', '/protocol/introspect'],
    ])('joins the base %j and the path %j with one slash', (authorizationServerUrl, introspectionEndpoint) => {
      const request = resource({ authorizationServerUrl, introspectionEndpoint }).buildIntrospectionRequest('tok');
      expect(request.url).toBe('https://as.example.com/realms/main/protocol/introspect');
    });

    it('keeps a full URL endpoint as it is, whatever the base', () => {
      const request = resource({
        authorizationServerUrl: 'https://base.example.com',
        introspectionEndpoint: ENDPOINT,
      }).buildIntrospectionRequest('tok');
      expect(request.url).toBe(ENDPOINT);
    });
  });

  describe('the userinfo request', () => {
    it('sends the token as a Bearer header to the userinfo endpoint, resolved against the base', () => {
      const request = resource({
        authorizationServerUrl: 'https://as.example.com/',
        userInfoEndpoint: '/userinfo',
        clientId: 'api',
        clientSecret: 's',
      }).buildUserInfoRequest('tok');
      expect(request).toEqual({
        method: 'GET',
        url: 'https://as.example.com/userinfo',
        headers: { Accept: 'application/json', Authorization: 'Bearer tok' },
      });
    });

    it('uses userInfoEndpointMethod', () => {
      const request = resource({
        userInfoEndpoint: 'https://as.example.com/me',
        userInfoEndpointMethod: 'POST',
      }).buildUserInfoRequest('tok');
      expect(request.method).toBe('POST');
      expect(request.url).toBe('https://as.example.com/me');
    });

    it('is an error naming the option when there is no userInfoEndpoint', () => {
      expect(() => resource().buildUserInfoRequest('tok')).toThrow("resource 'as' has no userInfoEndpoint");
    });
  });

  describe('isActive', () => {
    const generic = resource();

    it.each([
      [true, true],
      ['true', true],
      [false, false],
      ['false', false],
    ])('reads active %j as %j', (active, expected) => {
      expect(generic.isActive({ active })).toBe(expected);
    });

    it.each([
      ['missing', undefined],
      ['1', 1],
      ['"yes"', 'yes'],
      ['null', null],
      ['"TRUE"', 'TRUE'],
      ['an object', {}],
    ])('cannot read active when it is %s', (_, active) => {
      expect(generic.isActive(active === undefined ? {} : { active })).toBeUndefined();
    });
  });

  describe('genericResourceSettings', () => {
    it('applies the defaults', () => {
      expect(genericResourceSettings({ name: 'as', type: 'generic', introspectionEndpoint: ENDPOINT })).toEqual({
        name: 'as',
        introspectionUrl: ENDPOINT,
        introspectionEndpointMethod: 'POST',
        introspectionResponseFormat: 'json',
        clientId: undefined,
        clientSecret: undefined,
        useClientAuthorizationHeader: true,
        clientAuthorizationHeaderName: 'Authorization',
        clientAuthorizationHeaderScheme: 'Basic',
        tokenIsSuppliedByQueryParam: false,
        tokenQueryParamName: 'token',
        tokenIsSuppliedByHttpHeader: false,
        tokenHeaderName: undefined,
        tokenIsSuppliedByFormUrlEncoded: true,
        tokenFormUrlEncodedName: 'token',
        tokenTypeHint: 'access_token',
        scopeSeparator: ' ',
        userClaim: 'sub',
        userInfoUrl: undefined,
        userInfoEndpointMethod: 'GET',
        timeout: 5000,
        maxResponseBytes: 256 * 1024,
        maxConcurrentConnections: 64,
        circuitBreaker: { failureThreshold: 10, coolDownSeconds: 10 },
      });
    });

    it('exposes the scope separator and user claim on the resource', () => {
      const custom = resource({ scopeSeparator: ',', userClaim: 'username' });
      expect(custom.scopeSeparator).toBe(',');
      expect(custom.userClaim).toBe('username');
      expect(custom.name).toBe('as');
    });
  });
});
