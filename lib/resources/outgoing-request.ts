import type { OAuth2HttpMethod } from '../interfaces/resource-options.interface';

/** A request to an authorization server, built from a resource's options. */
export interface OutgoingRequest {
  readonly method: OAuth2HttpMethod;
  /** The full URL, query included, every value encoded. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** An `application/x-www-form-urlencoded` body, when there is one. */
  readonly body?: string;
}

/** Joins a base URL and an endpoint that is either a full URL or a path under the base. */
export function resolveEndpoint(base: string | undefined, endpoint: string): string {
  if (!endpoint.startsWith('/')) {
    return endpoint;
  }
  return `${(base ?? '').replace(/\/+$/, '')}${endpoint}`;
}

/** Adds query parameters to a URL, encoded, keeping the ones it already has. */
export function withQuery(url: string, params: URLSearchParams): string {
  const query = params.toString();
  if (!query) {
    return url;
  }
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

/**
 * The value of an HTTP Basic client authentication (RFC 6749 §2.3.1): client id and secret are
 * form-encoded first, then joined by `:` and base64-encoded.
 */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64');
}

/** `application/x-www-form-urlencoded` encoding of one value. */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
