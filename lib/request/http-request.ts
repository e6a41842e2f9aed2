import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
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
  raw?: IncomingMessage;
  rawHeaders?: string[];
}

const AUTHORIZATION = 'authorization';

/** Whether a raw header name is `Authorization`; the length first, which tells most names apart without lower-casing them. */
function isAuthorization(name: string): boolean {
  return name.length === AUTHORIZATION.length && name.toLowerCase() === AUTHORIZATION;
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
  const url = (request.raw ?? request).url ?? request.url;
  const start = url === undefined ? -1 : url.indexOf('?');
  if (start < 0) {
    return [];
  }
  // From the `?` on, which URLSearchParams drops: a second `?` is then part of the first name, as
  // Express and Fastify read it too.
  return new URLSearchParams((url as string).slice(start)).getAll(name);
}

/** Removes every `Authorization` header, so a handler that forwards the request cannot pass the token on. */
export function removeAuthorizationHeaders(request: GuardedRequest): void {
  for (const message of new Set([request, request.raw ?? request])) {
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
}
