/**
 * RFC 9728 protected-resource metadata: what the module serves at `/.well-known/oauth-protected-resource`
 * (and at that path followed by the path of `resource`), so that clients such as MCP clients find the
 * authorization server on their own. When set, every Bearer challenge carries `resource_metadata`, and
 * the policy's `audiences` default to `[resource]`.
 *
 * @example
 * protectedResource: {
 *   resource: 'https://api.example.com/mcp',
 *   authorizationServers: ['https://as.example.com'],
 *   resourceName: 'Orders MCP server',
 * }
 */
export interface OAuth2ProtectedResourceOptions {
  /**
   * The resource identifier (RFC 9728 §2, RFC 8707): an absolute `https` URL without fragment or query
   * (`http` only for `localhost`, `127.0.0.1` and `[::1]`, for development and tests).
   */
  resource: string;
  /** Issuer identifiers of the authorization servers (RFC 8414), in `authorization_servers` as given. At least one. */
  authorizationServers: string[];
  /** `scopes_supported`. Default: every scope that `@RequiredScopes()` names in the application, and the policy's. */
  scopesSupported?: string[];
  /** `resource_name`: a human-readable name of the resource. */
  resourceName?: string;
  /** `resource_documentation`: an absolute URL of the resource's documentation for developers. */
  resourceDocumentation?: string;
  /**
   * Further members of the document (RFC 9728 §2 or extensions), e.g. `{ resource_policy_uri: '...' }`.
   * JSON values; a member the options above set is refused at start-up (set it with its option).
   */
  additionalMetadata?: Record<string, unknown>;
}
