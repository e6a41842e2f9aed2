import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { validateModuleOptions } from './validate-options';

/**
 * Start-up validation of issue 14's options: `trustedClientCertificateHeader`,
 * `policy.requireCertificateBinding`, and a resource's `introspectionResponseFormat` and `jwksUri`.
 */

const generic = (extra: Record<string, unknown> = {}) => ({
  name: 'as',
  type: 'generic',
  introspectionEndpoint: 'https://as.example.com/introspect',
  clientId: 'api',
  clientSecret: 'secret',
  ...extra,
});
const discovered = (extra: Record<string, unknown> = {}) => {
  const { introspectionEndpoint: _endpoint, ...rest } = generic({ issuer: 'https://as.example.com', ...extra });
  return rest;
};

function problemsOf(options: Record<string, unknown>): string {
  try {
    validateModuleOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('the options were accepted');
}

describe('trustedClientCertificateHeader', () => {
  it('is not read by default, and kept in lower case when set', () => {
    expect(validateModuleOptions({ resources: [generic()] }).trustedClientCertificateHeader).toBeUndefined();
    expect(
      validateModuleOptions({ resources: [generic()], trustedClientCertificateHeader: 'Client-Cert' })
        .trustedClientCertificateHeader,
    ).toBe('client-cert');
  });

  it.each([['', 'Client Cert', 42, ['Client-Cert']]])('refuses what is not a header name (%p)', (value) => {
    expect(problemsOf({ resources: [generic()], trustedClientCertificateHeader: value })).toMatch(
      /trustedClientCertificateHeader.*RFC 9440/,
    );
  });

  it('refuses a header that carries something else', () => {
    expect(problemsOf({ resources: [generic()], trustedClientCertificateHeader: 'Authorization' })).toMatch(
      /trustedClientCertificateHeader.*carries something else/,
    );
  });
});

describe('policy.requireCertificateBinding', () => {
  it('defaults to false and takes a boolean', () => {
    expect(validateModuleOptions({ resources: [generic()] }).policy.requireCertificateBinding).toBe(false);
    expect(
      validateModuleOptions({ resources: [generic()], policy: { requireCertificateBinding: true } }).policy
        .requireCertificateBinding,
    ).toBe(true);
    expect(problemsOf({ resources: [generic()], policy: { requireCertificateBinding: 'yes' } })).toMatch(
      /policy\.requireCertificateBinding/,
    );
  });
});

describe('introspectionResponseFormat and jwksUri', () => {
  it("accept 'jwt' with an issuer and a client id, with or without jwksUri", () => {
    expect(() =>
      validateModuleOptions({ resources: [discovered({ introspectionResponseFormat: 'jwt' })] }),
    ).not.toThrow();
    expect(() =>
      validateModuleOptions({
        resources: [discovered({ introspectionResponseFormat: 'jwt', jwksUri: 'https://as.example.com/jwks' })],
      }),
    ).not.toThrow();
    expect(() =>
      validateModuleOptions({ resources: [generic({ introspectionResponseFormat: 'json' })] }),
    ).not.toThrow();
  });

  it("refuse 'jwt' without an issuer, saying what to set", () => {
    expect(problemsOf({ resources: [generic({ introspectionResponseFormat: 'jwt' })] })).toMatch(
      /resources\[0\]\.introspectionResponseFormat.*no issuer.*set issuer/,
    );
    expect(
      problemsOf({
        resources: [generic({ introspectionResponseFormat: 'jwt', jwksUri: 'https://as.example.com/jwks' })],
      }),
    ).toMatch(/resources\[0\]\.introspectionResponseFormat.*iss must name/);
  });

  it("refuse 'jwt' without a client id (the answers' aud)", () => {
    const { clientId: _id, clientSecret: _secret, ...resource } = discovered({ introspectionResponseFormat: 'jwt' });
    expect(problemsOf({ resources: [resource] })).toMatch(/resources\[0\]\.clientId.*aud/);
  });

  it("refuse jwksUri without 'jwt', another format, and a jwksUri that is no URL", () => {
    expect(problemsOf({ resources: [discovered({ jwksUri: 'https://as.example.com/jwks' })] })).toMatch(
      /resources\[0\]\.jwksUri.*introspectionResponseFormat: 'jwt'/,
    );
    expect(problemsOf({ resources: [generic({ introspectionResponseFormat: 'xml' })] })).toMatch(
      /resources\[0\]\.introspectionResponseFormat/,
    );
    expect(
      problemsOf({ resources: [discovered({ introspectionResponseFormat: 'jwt', jwksUri: 'jwks.json' })] }),
    ).toMatch(/resources\[0\]\.jwksUri.*URL/);
  });

  it('are not options of a gravitee-am resource', () => {
    expect(
      problemsOf({
        resources: [
          {
            name: 'am',
            type: 'gravitee-am',
            serverURL: 'https://am.example.com',
            securityDomain: 'd',
            clientId: 'c',
            clientSecret: 's',
            introspectionResponseFormat: 'jwt',
          },
        ],
      }),
    ).toMatch(/resources\[0\]\.introspectionResponseFormat/);
  });
});
