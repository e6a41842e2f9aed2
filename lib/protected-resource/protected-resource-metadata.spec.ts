import { resolveProtectedResource } from '../options/protected-resource.schema';
import { DEFAULT_POLICY, mergePolicy } from '../options/resolved-options';
import { protectedResourceMetadata } from './protected-resource-metadata';

/** What the default policy (`dpop: 'allowed'`, no `dpopAlgorithms`) accepts in a DPoP proof. */
const ALL_DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];

describe('protectedResourceMetadata', () => {
  const resolved = resolveProtectedResource({
    resource: 'https://api.example.com/mcp',
    authorizationServers: ['https://as.example.com'],
  });

  it('has the resource, the servers as configured, the found scopes and header as the bearer method', () => {
    expect(protectedResourceMetadata(resolved, DEFAULT_POLICY, ['a', 'b'])).toEqual({
      resource: 'https://api.example.com/mcp',
      authorization_servers: ['https://as.example.com'],
      scopes_supported: ['a', 'b'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ALL_DPOP_ALGORITHMS,
    });
  });

  it('leaves scopes_supported out when no scope is known, and adds query when the policy reads it', () => {
    const policy = mergePolicy(DEFAULT_POLICY, { allowAccessTokenQueryParam: true });
    const document = protectedResourceMetadata(resolved, policy, []);
    expect(document).not.toHaveProperty('scopes_supported');
    expect(document.bearer_methods_supported).toEqual(['header', 'query']);
  });

  it('prefers scopesSupported, and adds name, documentation and further members', () => {
    const full = resolveProtectedResource({
      ...resolved.options,
      scopesSupported: ['mcp'],
      resourceName: 'Orders',
      resourceDocumentation: 'https://docs.example.com',
      additionalMetadata: { resource_policy_uri: 'https://example.com/policy' },
    });
    expect(protectedResourceMetadata(full, DEFAULT_POLICY, ['found'])).toEqual({
      resource: 'https://api.example.com/mcp',
      authorization_servers: ['https://as.example.com'],
      scopes_supported: ['mcp'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ALL_DPOP_ALGORITHMS,
      resource_name: 'Orders',
      resource_documentation: 'https://docs.example.com',
      resource_policy_uri: 'https://example.com/policy',
    });
  });

  it("advertises the sender constraints of the module's policy (RFC 9728 §2), which additionalMetadata may override", () => {
    const required = mergePolicy(DEFAULT_POLICY, { dpop: 'required', dpopAlgorithms: ['ES256', 'EdDSA'] });
    expect(protectedResourceMetadata(resolved, required, [])).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      dpop_bound_access_tokens_required: true,
    });
    const off = protectedResourceMetadata(resolved, mergePolicy(DEFAULT_POLICY, { dpop: 'off' }), []);
    expect(off).not.toHaveProperty('dpop_signing_alg_values_supported');
    expect(off).not.toHaveProperty('dpop_bound_access_tokens_required');
    expect(off).not.toHaveProperty('tls_client_certificate_bound_access_tokens');
    const bound = mergePolicy(DEFAULT_POLICY, { requireCertificateBinding: true });
    expect(protectedResourceMetadata(resolved, bound, [])).toMatchObject({
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(protectedResourceMetadata(resolved, DEFAULT_POLICY, [], true)).toMatchObject({
      tls_client_certificate_bound_access_tokens: true,
    });
    const overridden = resolveProtectedResource({
      ...resolved.options,
      additionalMetadata: { dpop_signing_alg_values_supported: ['ES256'] },
    });
    expect(protectedResourceMetadata(overridden, DEFAULT_POLICY, []).dpop_signing_alg_values_supported).toEqual([
      'ES256',
    ]);
  });
});
