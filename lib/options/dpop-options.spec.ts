import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { validateModuleOptions } from './validate-options';

const base = { resources: [{ name: 'as', type: 'generic', introspectionEndpoint: 'https://as.example.com/i' }] };

function problemOf(options: Record<string, unknown>): string {
  try {
    validateModuleOptions({ ...base, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    return (error as Error).message;
  }
  return 'no problem';
}

describe('DPoP options at start-up', () => {
  it('accepts the documented shapes and resolves publicUrl without a trailing slash', () => {
    const resolved = validateModuleOptions({
      ...base,
      publicUrl: 'HTTPS://API.example.com:443/shop/',
      policy: {
        dpop: 'required',
        dpopAlgorithms: ['ES256', 'EdDSA'],
        dpopNonces: { secret: 'x'.repeat(32), lifetimeSeconds: 60 },
      },
    });
    expect(resolved.publicUrl).toBe('https://api.example.com/shop');
    expect(resolved.policy.dpop).toBe('required');
    expect(validateModuleOptions(base).policy.dpop).toBeUndefined();
  });

  it('names each wrong field', () => {
    expect(problemOf({ policy: { dpop: 'yes' } })).toMatch(/policy\.dpop.*'off', 'allowed' or 'required'/);
    expect(problemOf({ policy: { dpopAlgorithms: [] } })).toMatch(/policy\.dpopAlgorithms/);
    expect(problemOf({ policy: { dpopAlgorithms: ['HS256'] } })).toMatch(/policy\.dpopAlgorithms\[0\]/);
    expect(problemOf({ policy: { dpopNonces: 'on' } })).toMatch(/policy\.dpopNonces/);
    expect(problemOf({ policy: { dpopNonces: { secret: 'short' } } })).toMatch(/policy\.dpopNonces\.secret.*32/);
    expect(problemOf({ policy: { dpopNonces: { lifetime: 5 } } })).toMatch(/policy\.dpopNonces\.lifetime/);
    expect(problemOf({ policy: { dpopNonces: { lifetimeSeconds: 5 } } })).toMatch(/lifetimeSeconds/);
    for (const publicUrl of [
      'api.example.com',
      'ftp://a.example',
      'https://a.example/?x=1',
      'https://u:p@a.example',
      42,
    ]) {
      expect(problemOf({ publicUrl })).toMatch(/publicUrl/);
    }
  });
});
