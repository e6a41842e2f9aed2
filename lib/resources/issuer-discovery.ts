import { isJsonObject } from '../common/is-json-object';

/** What the module takes from an authorization server's metadata. */
export interface DiscoveredEndpoint {
  readonly introspectionEndpoint: string;
  /** `introspection_endpoint_auth_methods_supported`, when the document has it. */
  readonly authMethods?: readonly string[];
  /** `jwks_uri`, when the document has a usable one (for RFC 9701 signed answers). */
  readonly jwksUri?: string;
}

/**
 * Where the metadata of an issuer is, in the order they are tried: RFC 8414 §3.1 (the well-known
 * segment between the host and the issuer's path), then OpenID Connect Discovery 1.0 §4 (appended to
 * the issuer).
 *
 * @example
 * metadataUrls('https://as.example.com/tenant1')
 * // ['https://as.example.com/.well-known/oauth-authorization-server/tenant1',
 * //  'https://as.example.com/tenant1/.well-known/openid-configuration']
 */
export function metadataUrls(issuer: string): [string, string] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * Reads a metadata document: its `issuer` must be the configured one exactly (RFC 8414 §3.3, so that
 * a document served for another server is never used), and it must name an absolute
 * `introspection_endpoint` (https when the issuer is https).
 *
 * @returns the endpoint, or the reason the document cannot be used (no part of the document in it).
 */
export function readMetadata(body: string, issuer: string): DiscoveredEndpoint | string {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return 'is not JSON';
  }
  if (!isJsonObject(document)) {
    return 'is not a JSON object';
  }
  if (document.issuer !== issuer) {
    return `names another issuer than '${issuer}' (RFC 8414 §3.3): it is not used`;
  }
  const endpoint = document.introspection_endpoint;
  if (typeof endpoint !== 'string' || !isEndpointOf(endpoint, issuer)) {
    return 'has no introspection_endpoint (an absolute URL, https for an https issuer)';
  }
  const methods = document.introspection_endpoint_auth_methods_supported;
  const authMethods =
    Array.isArray(methods) && methods.every((method) => typeof method === 'string') ? [...methods] : undefined;
  const jwksUri =
    typeof document.jwks_uri === 'string' && isEndpointOf(document.jwks_uri, issuer) ? document.jwks_uri : undefined;
  return { introspectionEndpoint: endpoint, ...(authMethods && { authMethods }), ...(jwksUri && { jwksUri }) };
}

/**
 * The client authentication to use, from the methods the server lists: `client_secret_basic` (the
 * header) when listed or when the list is missing (RFC 8414 §2's default), else `client_secret_post`.
 * `undefined` when neither is listed: the module knows no other method.
 */
export function chooseClientAuthentication(
  authMethods: readonly string[] | undefined,
): 'client_secret_basic' | 'client_secret_post' | undefined {
  if (authMethods === undefined || authMethods.includes('client_secret_basic')) {
    return 'client_secret_basic';
  }
  return authMethods.includes('client_secret_post') ? 'client_secret_post' : undefined;
}

/** Milliseconds before retry number `attempt` (0-based): 1 s, doubling, at most 60 s. */
export function discoveryBackoff(attempt: number, firstMs = 1000, maxMs = 60_000): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 16));
}

function isEndpointOf(endpoint: string, issuer: string): boolean {
  try {
    const url = new URL(endpoint);
    const secure = new URL(issuer).protocol === 'https:';
    return url.protocol === 'https:' || (!secure && url.protocol === 'http:');
  } catch {
    return false;
  }
}
