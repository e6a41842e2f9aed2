import { type IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  type BearerCredential,
  bearerCredential,
  bearerTokenOf,
  findBearerCredential,
  isBearerValue,
} from '../guards/bearer-token';

/**
 * What the guard needs of a request, on Express (where the request is Node's `IncomingMessage`) and
 * on Fastify (where it wraps one in `raw`).
 */
export interface GuardedRequest {
  headers: IncomingHttpHeaders;
  url?: string;
  /** Express's, and Fastify's (a getter that reads `raw` once, then keeps what it read). */
  originalUrl?: string;
  /** Express's (a getter that parses `url`), and Fastify's (parsed once, when the route is found). */
  query?: unknown;
  raw?: IncomingMessage;
  rawHeaders?: string[];
}

/** Where Node's message keeps the URL: `url`, and what middleware adds beside it (Express, @fastify/middie). */
interface UrlHolder {
  url?: string;
  originalUrl?: string;
  query?: unknown;
}

const AUTHORIZATION = 'authorization';

/**
 * Whether a raw header name is `Authorization`, in any case: the length first, which tells most names
 * apart, then the two spellings clients send (compared, not lower-cased into a new string), then any other.
 */
function isAuthorization(name: string): boolean {
  return (
    name.length === AUTHORIZATION.length &&
    (name === AUTHORIZATION || name === 'Authorization' || name.toLowerCase() === AUTHORIZATION)
  );
}

/**
 * The raw headers of a request: its own on Express (Node's message), its `raw` message's on Fastify.
 * Own first: on Express, `raw` is a property that is not there, and looking for it walks the
 * request's whole prototype chain (Express's request, Node's message, stream, event emitter) on
 * objects of many shapes, a slow lookup on every request.
 */
function rawHeadersOf(request: GuardedRequest): string[] | undefined {
  if (Array.isArray(request.rawHeaders)) {
    return request.rawHeaders;
  }
  const rawHeaders = request.raw?.rawHeaders;
  return Array.isArray(rawHeaders) ? rawHeaders : undefined;
}

/**
 * Fastify's `raw` message; none for Express's request, which is Node's message itself. Told by class, not
 * by looking for `raw`: on Express's request a missing property is looked for along its whole prototype
 * chain, on an object of a new shape every request (see {@link rawHeadersOf}).
 */
function rawMessageOf(request: GuardedRequest): IncomingMessage | undefined {
  return request instanceof IncomingMessage ? undefined : request.raw;
}

/**
 * The request's Bearer credential: the first `Authorization` value whose scheme is `Bearer`, in the
 * order received (Node keeps only the first value in `headers`, so the raw headers are read).
 */
export function findRequestBearerCredential(request: GuardedRequest): BearerCredential {
  const rawHeaders = rawHeadersOf(request);
  if (rawHeaders === undefined) {
    const header = request.headers.authorization;
    return findBearerCredential(header === undefined ? [] : [header]);
  }
  for (let index = 0; index < rawHeaders.length - 1; index += 2) {
    if (isAuthorization(rawHeaders[index])) {
      const token = bearerTokenOf(rawHeaders[index + 1]);
      if (token !== undefined) {
        return bearerCredential(token);
      }
    }
  }
  return bearerCredential(undefined);
}

/**
 * The request's first `Authorization` value exactly as written, whatever its scheme; `undefined`
 * without one. The guard's hit path finds a remembered token by it (`TokenCache.rememberWriting`).
 */
export function firstAuthorizationValue(request: GuardedRequest): string | undefined {
  const rawHeaders = rawHeadersOf(request);
  if (rawHeaders === undefined) {
    const header: unknown = request.headers.authorization;
    return typeof header === 'string' ? header : undefined;
  }
  for (let index = 0; index < rawHeaders.length - 1; index += 2) {
    if (isAuthorization(rawHeaders[index])) {
      return rawHeaders[index + 1];
    }
  }
  return undefined;
}

/**
 * How many `Authorization` values of the request have the Bearer scheme, token or not. For the `rfc`
 * profile, to which more than one is a malformed request (RFC 6750 §3.1).
 */
export function countRequestBearerValues(request: GuardedRequest): number {
  const rawHeaders = rawHeadersOf(request);
  if (rawHeaders === undefined) {
    const header = request.headers.authorization;
    return header !== undefined && isBearerValue(header) ? 1 : 0;
  }
  let count = 0;
  for (let index = 0; index < rawHeaders.length - 1; index += 2) {
    if (isAuthorization(rawHeaders[index]) && isBearerValue(rawHeaders[index + 1])) {
      count += 1;
    }
  }
  return count;
}

/**
 * The values of a query parameter of the request's URL, in order, decoded as
 * `application/x-www-form-urlencoded` (RFC 6750 §2.3): `+` is a space, and a name matches once decoded.
 */
export function queryParamValues(request: GuardedRequest, name: string): string[] {
  const url = (rawMessageOf(request) ?? request).url ?? request.url;
  const start = url === undefined ? -1 : url.indexOf('?');
  if (start < 0) {
    return [];
  }
  // From the `?` on, which URLSearchParams drops: a second `?` is then part of the first name, as
  // Express and Fastify read it too.
  return new URLSearchParams((url as string).slice(start)).getAll(name);
}

/**
 * A URL without the query parameters of a name, read as {@link queryParamValues} reads them (so a
 * name sent as `access%5Ftoken` goes too); the others keep their order and their bytes. The `?` goes
 * when no parameter is left. The same string when there is nothing to remove.
 */
export function withoutQueryParam(url: string, name: string): string {
  const start = url.indexOf('?');
  if (start < 0) {
    return url;
  }
  let kept: string[] | undefined;
  let segmentStart = start + 1;
  while (segmentStart <= url.length) {
    let segmentEnd = url.indexOf('&', segmentStart);
    if (segmentEnd < 0) {
      segmentEnd = url.length;
    }
    const named = isQueryParamNamed(url, segmentStart, segmentEnd, name);
    if (named && kept === undefined) {
      // The first match: the segments before it are kept as they are.
      kept = segmentStart > start + 1 ? url.slice(start + 1, segmentStart - 1).split('&') : [];
    } else if (!named && kept !== undefined) {
      kept.push(url.slice(segmentStart, segmentEnd));
    }
    segmentStart = segmentEnd + 1;
  }
  if (kept === undefined) {
    return url;
  }
  return kept.length ? `${url.slice(0, start)}?${kept.join('&')}` : url.slice(0, start);
}

/** Whether the query segment `url[start, end)` is a parameter of that name, once decoded. */
function isQueryParamNamed(url: string, start: number, end: number, name: string): boolean {
  // Not indexOf('='), which would search past the segment: quadratic on a long query of empty segments.
  let nameEnd = start;
  let encoded = false;
  while (nameEnd < end && url[nameEnd] !== '=') {
    encoded ||= url[nameEnd] === '%' || url[nameEnd] === '+';
    nameEnd += 1;
  }
  if (!encoded) {
    return nameEnd - start === name.length && url.startsWith(name, start);
  }
  // Decoded exactly as the token was read: URLSearchParams keeps a malformed escape as it is.
  for (const decoded of new URLSearchParams(`${url.slice(start, nameEnd)}=`).keys()) {
    return decoded === name;
  }
  return false;
}

/**
 * Removes a query parameter from every place a handler reads the URL or the query from, so that a
 * handler that forwards the request cannot pass a query token on: Node's message's `url`, and the
 * `originalUrl` and `query` that Express (on the message itself) or @fastify/middie (on Fastify's
 * `raw`) keep beside it; on Fastify, the request's own `originalUrl` (which it may have read from
 * `raw` already and kept) and `query`. Express's `query` is a getter over `url`.
 */
export function removeQueryParam(request: GuardedRequest, name: string): void {
  const message: UrlHolder = rawMessageOf(request) ?? request;
  let removed = stripUrl(message, 'url', name);
  removed = stripUrl(message, 'originalUrl', name) || removed;
  if (message !== request) {
    const originalUrl = request.originalUrl;
    const stripped = typeof originalUrl === 'string' ? withoutQueryParam(originalUrl, name) : originalUrl;
    if (stripped !== originalUrl) {
      // Fastify's getter only reads `raw` the first time: shadow the URL it kept.
      Object.defineProperty(request, 'originalUrl', { value: stripped, writable: true, configurable: true });
      removed = true;
    }
  }
  if (!removed) {
    return;
  }
  for (const holder of new Set<UrlHolder>([request, message])) {
    const query = holder.query;
    if (typeof query === 'object' && query !== null && Object.prototype.hasOwnProperty.call(query, name)) {
      delete (query as Record<string, unknown>)[name];
    }
  }
}

function stripUrl(holder: UrlHolder, field: 'url' | 'originalUrl', name: string): boolean {
  const url = holder[field];
  if (typeof url !== 'string') {
    return false;
  }
  const stripped = withoutQueryParam(url, name);
  if (stripped === url) {
    return false;
  }
  holder[field] = stripped;
  return true;
}

/** Removes every `Authorization` header, so a handler that forwards the request cannot pass the token on. */
export function removeAuthorizationHeaders(request: GuardedRequest): void {
  removeAuthorizationHeadersOf(request);
  // Fastify's request wraps Node's message, which has headers of its own (usually the same object).
  const raw = rawMessageOf(request);
  if (raw !== undefined && raw !== (request as object)) {
    removeAuthorizationHeadersOf(raw);
  }
}

function removeAuthorizationHeadersOf(message: Pick<GuardedRequest, 'headers' | 'rawHeaders'>): void {
  delete message.headers.authorization;
  const rawHeaders = message.rawHeaders;
  if (Array.isArray(rawHeaders)) {
    for (let index = rawHeaders.length - 2; index >= 0; index -= 2) {
      if (isAuthorization(rawHeaders[index])) {
        rawHeaders.splice(index, 2);
      }
    }
  }
}
