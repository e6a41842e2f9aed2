import { DPOP_ALGORITHMS } from '../dpop/dpop-jwk';
import type { ResolvedOAuth2Policy } from '../interfaces/policy-options.interface';
import type { ResolvedProtectedResource } from '../options/resolved-options';

/** `Cache-Control` of the document: it changes only with a new deployment. */
export const PROTECTED_RESOURCE_CACHE_CONTROL = 'public, max-age=3600';

/**
 * The RFC 9728 §2 document: the configured members, `bearer_methods_supported` from the token sources
 * the module's policy reads (`header`, and `query` with `allowAccessTokenQueryParam`), `scopes_supported`
 * as configured or else `foundScopes`, the sender-constraint members from the module's policy and
 * `certificateBound` (`dpop_signing_alg_values_supported` unless `dpop: 'off'`,
 * `dpop_bound_access_tokens_required` with `dpop: 'required'`, `tls_client_certificate_bound_access_tokens`
 * when certificates can be checked or are required), then `additionalMetadata`, which may override
 * them. Frozen: built once, at start-up.
 */
export function protectedResourceMetadata(
  resolved: ResolvedProtectedResource,
  policy: ResolvedOAuth2Policy,
  foundScopes: readonly string[],
  certificateBound = policy.requireCertificateBinding,
): Readonly<Record<string, unknown>> {
  const { options } = resolved;
  const scopes = options.scopesSupported ?? foundScopes;
  const dpop = policy.dpop ?? 'allowed';
  return Object.freeze({
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    ...(scopes.length > 0 && { scopes_supported: [...scopes] }),
    bearer_methods_supported: policy.allowAccessTokenQueryParam ? ['header', 'query'] : ['header'],
    ...(dpop !== 'off' && { dpop_signing_alg_values_supported: [...(policy.dpopAlgorithms ?? DPOP_ALGORITHMS)] }),
    ...(dpop === 'required' && { dpop_bound_access_tokens_required: true }),
    ...(certificateBound && { tls_client_certificate_bound_access_tokens: true }),
    ...(options.resourceName !== undefined && { resource_name: options.resourceName }),
    ...(options.resourceDocumentation !== undefined && { resource_documentation: options.resourceDocumentation }),
    ...options.additionalMetadata,
  });
}
