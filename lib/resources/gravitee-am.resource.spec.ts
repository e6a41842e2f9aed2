import type { GraviteeAmResourceOptions } from '../interfaces/resource-options.interface';
import { GraviteeAmResource } from './gravitee-am.resource';

const resources: GraviteeAmResource[] = [];

/** An AM resource with the given options over a minimal configuration; building requests uses no network. */
function resource(options: Partial<GraviteeAmResourceOptions> = {}): GraviteeAmResource {
  const built = new GraviteeAmResource({
    name: 'am',
    type: 'gravitee-am',
    serverURL: 'https://am.example.com',
    securityDomain: 'my-domain',
    clientId: 'api',
    clientSecret: 's3cret',
    ...options,
  });
  resources.push(built);
  return built;
}

afterAll(() => resources.forEach((built) => built.close()));

describe('GraviteeAmResource', () => {
  describe('endpoints by version', () => {
    it('V1_X introspects at /{domain}/oauth/check_token, userinfo at /{domain}/userinfo', () => {
      const v1 = resource({ version: 'V1_X' });
      expect(v1.buildIntrospectionRequest('tok').url).toBe('https://am.example.com/my-domain/oauth/check_token');
      expect(v1.buildUserInfoRequest('tok').url).toBe('https://am.example.com/my-domain/userinfo');
    });

    it.each(['V2_X', 'V3_X'] as const)(
      '%s introspects at /{domain}/oauth/introspect, userinfo at /{domain}/oidc/userinfo',
      (version) => {
        const am = resource({ version });
        expect(am.buildIntrospectionRequest('tok').url).toBe('https://am.example.com/my-domain/oauth/introspect');
        expect(am.buildUserInfoRequest('tok').url).toBe('https://am.example.com/my-domain/oidc/userinfo');
      },
    );

    it('is V3_X by default', () => {
      const am = resource();
      expect(am.version).toBe('V3_X');
      expect(am.buildIntrospectionRequest('tok').url).toBe('https://am.example.com/my-domain/oauth/introspect');
    });

    it.each([
      'https://am.example.com/am/gateway',
      'https://am.example.com/am/gateway/',
      'https://am.example.com/am/gateway//',
    ])('keeps the path of the serverURL %j, without doubling slashes', (serverURL) => {
      expect(resource({ serverURL }).buildIntrospectionRequest('tok').url).toBe(
        'https://am.example.com/am/gateway/my-domain/oauth/introspect',
      );
    });

    it('encodes the security domain as one path segment', () => {
      expect(resource({ securityDomain: 'a/b c' }).buildIntrospectionRequest('tok').url).toBe(
        'https://am.example.com/a%2Fb%20c/oauth/introspect',
      );
    });
  });

  describe('the introspection request', () => {
    const request = resource({ clientId: 'my app', clientSecret: 'a:b%c+d e' }).buildIntrospectionRequest('a&b=c d');

    it('is a POST with the token form-encoded in the body', () => {
      expect(request.method).toBe('POST');
      expect(request.body).toBe('token=a%26b%3Dc+d');
      expect(new URLSearchParams(request.body).get('token')).toBe('a&b=c d');
      expect(request.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
      expect(request.headers.Accept).toBe('application/json');
    });

    it('authenticates the client with Basic over the form-encoded id and secret', () => {
      const encoded = /^Basic (.+)$/.exec(request.headers.Authorization ?? '')?.[1] ?? '';
      expect(Buffer.from(encoded, 'base64').toString('utf8')).toBe('my+app:a%3Ab%25c%2Bd+e');
    });

    it('puts no token in the URL', () => {
      expect(request.url).not.toContain('a%26b');
      expect(request.url).not.toContain('?');
    });
  });

  it('asks for userinfo with the token as a Bearer header', () => {
    expect(resource().buildUserInfoRequest('tok')).toEqual({
      method: 'GET',
      url: 'https://am.example.com/my-domain/oidc/userinfo',
      headers: { Accept: 'application/json', Authorization: 'Bearer tok' },
    });
  });

  it('reads the user from userClaim (sub by default), splits scopes on a space', () => {
    expect(resource().userClaim).toBe('sub');
    expect(resource({ userClaim: 'username' }).userClaim).toBe('username');
    expect(resource().scopeSeparator).toBe(' ');
  });

  describe('isActive', () => {
    it('V1_X takes an answer without active as active (check_token has none), but never an explicit false', () => {
      const v1 = resource({ version: 'V1_X' });
      expect(v1.isActive({})).toBe(true);
      expect(v1.isActive({ active: true })).toBe(true);
      expect(v1.isActive({ active: false })).toBe(false);
      expect(v1.isActive({ active: 'false' })).toBe(false);
      expect(v1.isActive({ active: 'nonsense' })).toBe(false);
      expect(v1.isActive({ active: null })).toBe(false);
    });

    it.each(['V2_X', 'V3_X'] as const)('%s reads active, a missing or unreadable one as inactive', (version) => {
      const am = resource({ version });
      expect(am.isActive({ active: true })).toBe(true);
      expect(am.isActive({ active: 'true' })).toBe(true);
      expect(am.isActive({ active: false })).toBe(false);
      expect(am.isActive({ active: 'false' })).toBe(false);
      expect(am.isActive({})).toBe(false);
      expect(am.isActive({ active: 1 })).toBe(false);
      expect(am.isActive({ active: null })).toBe(false);
    });
  });
});
