import { resolveProtectedResource } from '../options/protected-resource.schema';
import { DEFAULT_POLICY, mergePolicy } from '../options/resolved-options';
import { protectedResourceMetadata } from './protected-resource-metadata';

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
      resource_name: 'Orders',
      resource_documentation: 'https://docs.example.com',
      resource_policy_uri: 'https://example.com/policy',
    });
  });
});
