import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

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

/** Every value of the `Authorization` header, in the order received (Node keeps only the first in `headers`). */
export function authorizationHeaderValues(request: GuardedRequest): string[] {
  const rawHeaders = (request.raw ?? request).rawHeaders;
  if (Array.isArray(rawHeaders)) {
    const values: string[] = [];
    for (let index = 0; index < rawHeaders.length - 1; index += 2) {
      if (rawHeaders[index].toLowerCase() === 'authorization') {
        values.push(rawHeaders[index + 1]);
      }
    }
    return values;
  }
  const header = request.headers.authorization;
  return header === undefined ? [] : [header];
}

/** The first value of a query parameter of the request's URL. */
export function firstQueryParam(request: GuardedRequest, name: string): string | undefined {
  const url = (request.raw ?? request).url ?? request.url;
  if (!url || !url.includes('?')) {
    return undefined;
  }
  return new URLSearchParams(url.slice(url.indexOf('?') + 1)).get(name) ?? undefined;
}

/** Removes every `Authorization` header, so a handler that forwards the request cannot pass the token on. */
export function removeAuthorizationHeaders(request: GuardedRequest): void {
  for (const message of new Set([request, request.raw ?? request])) {
    delete message.headers.authorization;
    const rawHeaders = message.rawHeaders;
    if (Array.isArray(rawHeaders)) {
      for (let index = rawHeaders.length - 2; index >= 0; index -= 2) {
        if (rawHeaders[index].toLowerCase() === 'authorization') {
          rawHeaders.splice(index, 2);
        }
      }
    }
  }
}
