/** A percent-encoded octet. */
const PERCENT_ENCODED = /%[0-9A-Fa-f]{2}/g;
/** RFC 3986 §2.3 unreserved characters. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * A URL as RFC 9449 §4.3 compares `htu`: without query and fragment, and normalised as RFC 3986
 * §6.2.2 and §6.2.3 say: scheme and host in lower case, the scheme's default port left out, an empty
 * path as `/`, dot segments removed (all four done by WHATWG's URL parser), percent-encoded octets in
 * upper case, and the unreserved characters decoded. `undefined` for what is not an absolute http(s) URL.
 */
export function normaliseHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return undefined;
  }
  return `${url.protocol}//${url.host}${normalisePercentEncoding(url.pathname)}`;
}

/** RFC 3986 §6.2.2.1 and §6.2.2.2: `%7e` is `~`, `%2f` is `%2F`. */
function normalisePercentEncoding(path: string): string {
  if (!path.includes('%')) {
    return path;
  }
  return path.replace(PERCENT_ENCODED, (octet) => {
    const character = String.fromCharCode(Number.parseInt(octet.slice(1), 16));
    return UNRESERVED.test(character) ? character : octet.toUpperCase();
  });
}

/** What the guard reads of a request to know the URL the client called. */
export interface DpopRequestTarget {
  /** The request's target as received (path and query), e.g. Express's `originalUrl`. */
  readonly target: string;
  /** The `Host` header (or HTTP/2 `:authority`). */
  readonly host?: string;
  /** `http` or `https`, as the framework tells it (Express's and Fastify's `protocol`, which honour trust-proxy settings). */
  readonly protocol?: string;
}

/**
 * The normalised URL a request was sent to, which a proof's `htu` must equal: `publicUrl` (an origin,
 * with a base path when a proxy adds one) followed by the request's path when the module has one;
 * otherwise the scheme the framework reports and the `Host` header. `undefined` when it cannot be told.
 */
export function requestHtu(request: DpopRequestTarget, publicUrl: string | undefined): string | undefined {
  const query = request.target.search(/[?#]/);
  const path = query < 0 ? request.target : request.target.slice(0, query);
  if (!path.startsWith('/')) {
    return undefined;
  }
  if (publicUrl !== undefined) {
    return normaliseHtu(`${publicUrl}${path}`);
  }
  if (request.host === undefined || (request.protocol !== 'http' && request.protocol !== 'https')) {
    return undefined;
  }
  return normaliseHtu(`${request.protocol}://${request.host}${path}`);
}
