import type { GuardedRequest } from '../request/http-request';
import { trimOws } from '../guards/bearer-token';
import type { DpopRequestTarget } from './dpop-htu';

const DPOP = 'dpop';

/**
 * The token of the first `Authorization` value whose scheme is `DPoP` (any case, RFC 9110 §11.1):
 * the token, `''` for the scheme alone, `undefined` when no value has that scheme. Read only when
 * the request has no Bearer credential and the route accepts DPoP.
 */
export function findRequestDpopToken(request: GuardedRequest): string | undefined {
  for (const value of headerValues(request, 'authorization')) {
    const credential = trimOws(value);
    if (credential.slice(0, DPOP.length).toLowerCase() !== DPOP) {
      continue;
    }
    if (credential.length === DPOP.length) {
      return '';
    }
    const separator = credential[DPOP.length];
    if (separator === ' ' || separator === '\t') {
      return trimOws(credential.slice(DPOP.length));
    }
  }
  return undefined;
}

/**
 * The `DPoP` header's proof: the value, `undefined` when there is none, `null` when there are several
 * (RFC 9449 §4.3 check 1 refuses those).
 */
export function dpopProofOf(request: GuardedRequest): string | null | undefined {
  const values = headerValues(request, DPOP);
  if (values.length > 1) {
    return null;
  }
  return values.length === 0 ? undefined : trimOws(values[0]);
}

/** The request's method, as received. */
export function requestMethod(request: GuardedRequest): string | undefined {
  const method = (request as { method?: unknown }).method ?? (request.raw as { method?: unknown } | undefined)?.method;
  return typeof method === 'string' ? method : undefined;
}

/** What {@link requestHtu} needs of a request: its full target (Express's `originalUrl`), `Host` and protocol. */
export function dpopTarget(request: GuardedRequest): DpopRequestTarget {
  const target = request.originalUrl ?? request.raw?.url ?? request.url ?? '';
  const host = request.headers.host ?? request.headers[':authority'];
  const protocol = (request as { protocol?: unknown }).protocol;
  return {
    target,
    host: typeof host === 'string' ? host : undefined,
    protocol: typeof protocol === 'string' ? protocol.replace(/:$/, '') : undefined,
  };
}

/** Every value of a header, in the order received (Node keeps only one `Authorization` in `headers`). */
function headerValues(request: GuardedRequest, name: string): string[] {
  const rawHeaders = Array.isArray(request.rawHeaders) ? request.rawHeaders : request.raw?.rawHeaders;
  if (!Array.isArray(rawHeaders)) {
    const value = request.headers[name];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }
  const values: string[] = [];
  for (let index = 0; index < rawHeaders.length - 1; index += 2) {
    if (rawHeaders[index].length === name.length && rawHeaders[index].toLowerCase() === name) {
      values.push(rawHeaders[index + 1]);
    }
  }
  return values;
}
