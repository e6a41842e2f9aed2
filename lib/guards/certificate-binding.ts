import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import { clientCertificateOf } from '../request/client-certificate';
import type { GuardedRequest } from '../request/http-request';

/**
 * RFC 8705 §3 certificate-bound access tokens: a token whose introspection answer has
 * `cnf["x5t#S256"]` is accepted only from a client that presents that certificate. The binding
 * belongs to the request, not to the token: it is checked on every request, a cached payload's too.
 */

/** The `x5t#S256` member of the payload's `cnf`, when it has one (a string or not: any value binds). */
export function boundThumbprint(payload: IntrospectionPayload): unknown {
  const cnf = payload.cnf;
  return typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
}

/**
 * Why a request may not use a payload's token, or `undefined` when it may: a bound token without the
 * certificate it is bound to (none, another, a malformed proxy header), or an unbound token on a route
 * that requires binding. The reason is for the log: it holds no certificate and no token.
 *
 * @param headerName the trusted proxy's RFC 9440 header (lower case), or `undefined` to read the TLS connection.
 */
export function certificateBindingRejection(
  payload: IntrospectionPayload,
  request: GuardedRequest,
  requireBinding: boolean,
  headerName: string | undefined,
): string | undefined {
  const expected = boundThumbprint(payload);
  if (expected === undefined) {
    return requireBinding ? 'the token is not certificate-bound, and the route requires binding' : undefined;
  }
  if (typeof expected !== 'string' || expected === '') {
    // A binding the module cannot check is not ignored: the server meant the token to be bound.
    return 'the token is bound to an unreadable cnf["x5t#S256"]';
  }
  const certificate = clientCertificateOf(request, headerName);
  switch (certificate.kind) {
    case 'none':
      return headerName === undefined
        ? 'the token is certificate-bound, and the connection presented no client certificate'
        : `the token is certificate-bound, and the request has no ${headerName} header`;
    case 'malformed':
      return `the token is certificate-bound, and ${certificate.reason}`;
    case 'certificate':
      return certificate.thumbprint === expected
        ? undefined
        : 'the token is bound to another certificate than the one presented';
  }
}
