import { certificateAuthority, clientCertificate, encryptedKey, serverCertificate } from '../../test/support/test-pki';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { validateModuleOptions } from './validate-options';

/**
 * Start-up validation of issue 5's options: `errorProfile`, `retryAfterSeconds`, and a resource's
 * `tls` (checked for shape, and loaded, so that a bad certificate stops the start).
 */

const ca = certificateAuthority('Options Test CA');
const server = serverCertificate(ca);
const client = clientCertificate(ca, 'orders-api');
const otherClient = clientCertificate(ca, 'other');

const generic = (extra: Record<string, unknown> = {}) => ({
  name: 'as',
  type: 'generic',
  introspectionEndpoint: 'https://as.example.com/introspect',
  ...extra,
});

function problemsOf(options: Record<string, unknown>): string {
  try {
    validateModuleOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('the options were accepted');
}

describe('errorProfile and retryAfterSeconds', () => {
  it('default to documented and 5 s', () => {
    const resolved = validateModuleOptions({ resources: [generic()] });
    expect(resolved.errorProfile).toBe('documented');
    expect(resolved.retryAfterSeconds).toBe(5);
  });

  it.each(['documented', 'gateway', 'rfc'])('accept the profile %s', (errorProfile) => {
    expect(validateModuleOptions({ resources: [generic()], errorProfile }).errorProfile).toBe(errorProfile);
  });

  it.each([['strict'], ['RFC'], [''], [1], [null]])('refuse the profile %p, naming the three', (errorProfile) => {
    const message = problemsOf({ resources: [generic()], errorProfile });
    expect(message).toContain('errorProfile must be one of');
    expect(message).toContain("'documented', 'gateway', 'rfc'");
  });

  it('keeps retryAfterSeconds', () => {
    expect(
      validateModuleOptions({ resources: [generic()], errorProfile: 'rfc', retryAfterSeconds: 30 }).retryAfterSeconds,
    ).toBe(30);
  });

  it.each([[0], [1.5], [-1], [86_401], ['5']])('refuses retryAfterSeconds %p', (retryAfterSeconds) => {
    expect(problemsOf({ resources: [generic()], retryAfterSeconds })).toContain(
      'retryAfterSeconds must be an integer number of seconds from 1 to 86400',
    );
  });
});

describe('a resource’s tls option', () => {
  it('accepts a CA (string, Buffer or list), a client certificate and key, an encrypted key with its passphrase', () => {
    for (const tls of [
      { ca: ca.certPem },
      { ca: Buffer.from(ca.certPem) },
      { ca: [ca.certPem, server.certPem] },
      { cert: client.certPem, key: client.keyPem },
      { ca: ca.certPem, cert: Buffer.from(client.certPem), key: Buffer.from(client.keyPem) },
      { cert: client.certPem, key: encryptedKey(client, 'pass phrase'), passphrase: 'pass phrase' },
      { insecureSkipVerify: true },
      { insecureSkipVerify: false, ca: ca.certPem },
    ]) {
      expect(validateModuleOptions({ resources: [generic({ tls })] }).resources[0]).toMatchObject({ tls });
    }
  });

  it('accepts it on a Gravitee AM resource at an https serverURL', () => {
    const am = {
      name: 'am',
      type: 'gravitee-am',
      serverURL: 'https://am.example.com',
      securityDomain: 'd',
      clientId: 'c',
      clientSecret: 's',
      tls: { ca: ca.certPem },
    };
    expect(() => validateModuleOptions({ resources: [am] })).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    ['not an object', {}, { tls: 'yes' }, 'resources[0].tls must be an object'],
    [
      'an unknown member',
      {},
      { tls: { rejectUnauthorized: false } },
      'resources[0].tls.rejectUnauthorized is not a TLS option',
    ],
    [
      'a file path instead of a PEM text',
      {},
      { tls: { ca: '/etc/pki/ca.pem' } },
      'resources[0].tls.ca must be a CA certificate as a PEM text',
    ],
    [
      'a PEM that is not a certificate',
      {},
      { tls: { ca: client.keyPem } },
      'resources[0].tls.ca is not a readable PEM certificate',
    ],
    ['an empty CA list', {}, { tls: { ca: [] } }, 'resources[0].tls.ca is an empty list'],
    [
      'a bad entry in a CA list',
      {},
      { tls: { ca: [ca.certPem, 42] } },
      'resources[0].tls.ca[1] must be a CA certificate as a PEM text',
    ],
    [
      'a certificate without its key',
      {},
      { tls: { cert: client.certPem } },
      'resources[0].tls.key is required with cert',
    ],
    [
      'a key without its certificate',
      {},
      { tls: { key: client.keyPem } },
      'resources[0].tls.cert is required with key',
    ],
    [
      'a key of another certificate',
      {},
      { tls: { cert: client.certPem, key: otherClient.keyPem } },
      'resources[0].tls.cert and key could not be loaded',
    ],
    [
      'a wrong passphrase',
      {},
      { tls: { cert: client.certPem, key: encryptedKey(client, 'right'), passphrase: 'wrong' } },
      'resources[0].tls.cert and key could not be loaded',
    ],
    [
      'an encrypted key without passphrase',
      {},
      { tls: { cert: client.certPem, key: encryptedKey(client, 'right') } },
      'resources[0].tls.cert and key could not be loaded',
    ],
    ['a passphrase without a key', {}, { tls: { passphrase: 'x' } }, 'resources[0].tls.passphrase is set without key'],
    [
      'insecureSkipVerify that is not a boolean',
      {},
      { tls: { insecureSkipVerify: 'true' } },
      'resources[0].tls.insecureSkipVerify must be a boolean',
    ],
    [
      'insecureSkipVerify beside a CA',
      {},
      { tls: { insecureSkipVerify: true, ca: ca.certPem } },
      'resources[0].tls.insecureSkipVerify is true beside ca',
    ],
    [
      'TLS settings on an http:// resource',
      { introspectionEndpoint: 'http://as.example.com/introspect' },
      { tls: { ca: ca.certPem } },
      'resources[0].tls is set, but the resource has no https:// URL',
    ],
  ])('refuses %s', (_name, base, extra, expected) => {
    expect(problemsOf({ resources: [generic({ ...base, ...extra })] })).toContain(expected);
  });

  it('never echoes a key or a passphrase in its messages', () => {
    const message = problemsOf({
      resources: [
        generic({
          tls: { cert: client.certPem, key: encryptedKey(client, 'SECRET-PASSPHRASE'), passphrase: 'WRONG-PASSPHRASE' },
        }),
      ],
    });
    expect(message).not.toMatch(/PASSPHRASE|PRIVATE KEY|BEGIN/);
  });
});
