import { protectedResourceProblems, resolveProtectedResource } from './protected-resource.schema';

const valid = { resource: 'https://api.example.com/mcp', authorizationServers: ['https://as.example.com/realms/a'] };
const fields = (raw: unknown) => protectedResourceProblems(raw).map((problem) => problem.field);

describe('protectedResourceProblems', () => {
  it('accepts a complete valid option, and http for localhost, 127.0.0.1 and [::1]', () => {
    expect(
      protectedResourceProblems({
        ...valid,
        scopesSupported: ['mcp:tools'],
        resourceName: 'Orders',
        resourceDocumentation: 'https://docs.example.com',
        additionalMetadata: {
          resource_policy_uri: 'https://example.com/policy',
          tls_client_certificate_bound_access_tokens: false,
        },
      }),
    ).toEqual([]);
    for (const resource of ['http://localhost:3000/mcp', 'http://127.0.0.1:8080', 'http://[::1]/x']) {
      expect(protectedResourceProblems({ ...valid, resource })).toEqual([]);
    }
  });

  it('refuses a resource with a fragment, a query, user information, http elsewhere, or not a URL, naming the field', () => {
    for (const resource of [
      'https://api.example.com/mcp#part',
      'https://api.example.com/mcp?x=1',
      'https://user:pw@api.example.com/mcp',
      'http://api.example.com/mcp',
      '/mcp',
      'urn:example:mcp',
      undefined,
    ]) {
      expect(fields({ ...valid, resource })).toEqual(['protectedResource.resource']);
    }
    expect(protectedResourceProblems({ ...valid, resource: 'https://a.example/#x' })[0].problem).toContain('fragment');
  });

  it('refuses missing or empty authorizationServers, and an entry that is not an absolute URL', () => {
    expect(fields({ resource: valid.resource })).toEqual(['protectedResource.authorizationServers']);
    expect(fields({ ...valid, authorizationServers: [] })).toEqual(['protectedResource.authorizationServers']);
    expect(
      fields({ ...valid, authorizationServers: ['https://ok.example.com', 'as.example.com', 'https://x/?q'] }),
    ).toEqual(['protectedResource.authorizationServers[1]', 'protectedResource.authorizationServers[2]']);
  });

  it('refuses unknown options, bad scopes, name and documentation, and members the module sets', () => {
    expect(
      fields({
        ...valid,
        resourceNmae: 'x',
        scopesSupported: ['a b'],
        resourceName: '',
        resourceDocumentation: 'docs',
        additionalMetadata: { resource: 'https://other', scopes_supported: [], when: new Date(0) },
      }),
    ).toEqual([
      'protectedResource.resourceNmae',
      'protectedResource.scopesSupported',
      'protectedResource.resourceName',
      'protectedResource.resourceDocumentation',
      'protectedResource.additionalMetadata.resource',
      'protectedResource.additionalMetadata.scopes_supported',
      'protectedResource.additionalMetadata.when',
    ]);
    expect(fields('https://api.example.com')).toEqual(['protectedResource']);
  });
});

describe('resolveProtectedResource', () => {
  it('puts the well-known segment between the origin and the path (RFC 9728 §3.1)', () => {
    const resolved = resolveProtectedResource(valid);
    expect(resolved.metadataUrl).toBe('https://api.example.com/.well-known/oauth-protected-resource/mcp');
    expect(resolved.metadataPaths).toEqual([
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
    ]);
  });

  it('serves one path for a resource at the root, and keeps the port', () => {
    const resolved = resolveProtectedResource({ ...valid, resource: 'http://127.0.0.1:8080/' });
    expect(resolved.metadataUrl).toBe('http://127.0.0.1:8080/.well-known/oauth-protected-resource');
    expect(resolved.metadataPaths).toEqual(['/.well-known/oauth-protected-resource']);
  });
});
