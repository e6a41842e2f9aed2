import { chooseClientAuthentication, discoveryBackoff, metadataUrls, readMetadata } from './issuer-discovery';

describe('metadataUrls', () => {
  it('inserts the RFC 8414 well-known segment before the issuer path, then appends the OpenID one', () => {
    expect(metadataUrls('https://as.example.com/tenant/1')).toEqual([
      'https://as.example.com/.well-known/oauth-authorization-server/tenant/1',
      'https://as.example.com/tenant/1/.well-known/openid-configuration',
    ]);
  });

  it('has no path part for an issuer at the root, with or without its slash, and keeps the port', () => {
    for (const issuer of ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/']) {
      expect(metadataUrls(issuer)).toEqual([
        'http://127.0.0.1:8080/.well-known/oauth-authorization-server',
        'http://127.0.0.1:8080/.well-known/openid-configuration',
      ]);
    }
  });
});

describe('readMetadata', () => {
  const issuer = 'https://as.example.com';
  const document = (members: Record<string, unknown>) => JSON.stringify({ issuer, ...members });

  it('takes the introspection endpoint and the auth methods', () => {
    expect(
      readMetadata(
        document({
          introspection_endpoint: 'https://as.example.com/introspect',
          introspection_endpoint_auth_methods_supported: ['client_secret_post'],
        }),
        issuer,
      ),
    ).toEqual({ introspectionEndpoint: 'https://as.example.com/introspect', authMethods: ['client_secret_post'] });
  });

  it('refuses a document of another issuer, even one differing by a slash (RFC 8414 §3.3)', () => {
    const body = JSON.stringify({ issuer: 'https://as.example.com/', introspection_endpoint: 'https://x/i' });
    expect(readMetadata(body, issuer)).toContain('names another issuer');
    expect(readMetadata(body, issuer)).not.toContain('https://as.example.com/');
  });

  it('refuses no endpoint, a relative one, an http one for an https issuer, and bodies that are not objects', () => {
    expect(readMetadata(document({}), issuer)).toContain('has no introspection_endpoint');
    expect(readMetadata(document({ introspection_endpoint: '/introspect' }), issuer)).toContain('has no');
    expect(readMetadata(document({ introspection_endpoint: 'http://as.example.com/i' }), issuer)).toContain('has no');
    expect(readMetadata('<html>', issuer)).toBe('is not JSON');
    expect(readMetadata('[1]', issuer)).toBe('is not a JSON object');
  });
});

describe('chooseClientAuthentication', () => {
  it('prefers client_secret_basic, which is also the default of a missing list', () => {
    expect(chooseClientAuthentication(undefined)).toBe('client_secret_basic');
    expect(chooseClientAuthentication(['client_secret_post', 'client_secret_basic'])).toBe('client_secret_basic');
    expect(chooseClientAuthentication(['private_key_jwt', 'client_secret_post'])).toBe('client_secret_post');
    expect(chooseClientAuthentication(['private_key_jwt'])).toBeUndefined();
  });
});

describe('discoveryBackoff', () => {
  it('doubles from the first delay and stops at the cap', () => {
    expect([0, 1, 2, 3].map((attempt) => discoveryBackoff(attempt))).toEqual([1000, 2000, 4000, 8000]);
    expect(discoveryBackoff(10)).toBe(60_000);
    expect(discoveryBackoff(1e9)).toBe(60_000);
  });
});
