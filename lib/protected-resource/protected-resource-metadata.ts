import type { ResolvedOAuth2Policy } from '../interfaces/policy-options.interface';
import type { ResolvedProtectedResource } from '../options/resolved-options';

/** `Cache-Control` of the document: it changes only with a new deployment. */
export const PROTECTED_RESOURCE_CACHE_CONTROL = 'public, max-age=3600';

/**
 * The RFC 9728 §2 document: the configured members, `bearer_methods_supported` from the token sources
 * the module's policy reads (`header`, and `query` with `allowAccessTokenQueryParam`), `scopes_supported`
 * as configured or else `foundScopes`, then `additionalMetadata`. Frozen: built once, at start-up.
 */
export function protectedResourceMetadata(
  resolved: ResolvedProtectedResource,
  policy: ResolvedOAuth2Policy,
  foundScopes: readonly string[],
): Readonly<Record<string, unknown>> {
  const { options } = resolved;
  const scopes = options.scopesSupported ?? foundScopes;
  return Object.freeze({
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    ...(scopes.length > 0 && { scopes_supported: [...scopes] }),
    bearer_methods_supported: policy.allowAccessTokenQueryParam ? ['header', 'query'] : ['header'],
    ...(options.resourceName !== undefined && { resource_name: options.resourceName }),
    ...(options.resourceDocumentation !== undefined && { resource_documentation: options.resourceDocumentation }),
    ...options.additionalMetadata,
  });
}
