import { X509Certificate, createHash } from 'node:crypto';
import type { GuardedRequest } from './http-request';

/**
 * The client certificate of a request, for certificate-bound tokens (RFC 8705 §3): read only for a
 * bound token (or a route that requires binding), never on the path of unbound tokens.
 */

/** What the request shows of its client certificate. */
export type ClientCertificate =
  | { readonly kind: 'certificate'; readonly thumbprint: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'malformed'; readonly reason: string };

const NONE: ClientCertificate = Object.freeze({ kind: 'none' });

/** What the guard needs of a TLS socket. */
interface PeerCertificateSocket {
  getPeerCertificate?: (detailed?: boolean) => { raw?: unknown } | null | undefined;
}

/**
 * RFC 9440 §2.1: `Client-Cert` is a Structured Field Byte Sequence, `:` base64 `:` (RFC 8941 §3.3.5),
 * the base64 of the DER certificate, with padding; nothing else in the value (no parameters, no second
 * member: a header sent twice is joined by Node into one value with a comma, which does not match).
 */
const BYTE_SEQUENCE = /^[ \t]*:((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?):[ \t]*$/;

/** The RFC 8705 §3.1 `x5t#S256` of a DER certificate: the base64url of its SHA-256, without padding. */
export function certificateThumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

/**
 * The client certificate of a request: from the trusted proxy's header when `headerName` is set (and
 * then from there only: the connection is the proxy's), else from the TLS connection of Nest's own
 * HTTPS server (Express: the request's socket; Fastify: its `raw` message's). A request made up by a
 * transport (WebSocket, microservice, GraphQL subscription) has neither: `none`.
 */
export function clientCertificateOf(request: GuardedRequest, headerName: string | undefined): ClientCertificate {
  if (headerName !== undefined) {
    return certificateFromHeader(request.headers[headerName]);
  }
  const message = (request.raw ?? request) as { socket?: PeerCertificateSocket };
  const socket = message.socket;
  if (typeof socket?.getPeerCertificate !== 'function') {
    // Plain HTTP, or no socket at all.
    return NONE;
  }
  // The handshake proved that the client holds the certificate's key; whether a CA issued it does not
  // matter to the binding (RFC 8705 §2.2 binds self-signed certificates too).
  const raw = socket.getPeerCertificate(false)?.raw;
  return Buffer.isBuffer(raw) && raw.length > 0
    ? { kind: 'certificate', thumbprint: certificateThumbprint(raw) }
    : NONE;
}

/** The certificate of an RFC 9440 header value, read strictly. */
export function certificateFromHeader(value: string | string[] | undefined): ClientCertificate {
  if (value === undefined || value === '') {
    return NONE;
  }
  if (typeof value !== 'string') {
    return { kind: 'malformed', reason: 'the header is sent more than once' };
  }
  const match = BYTE_SEQUENCE.exec(value);
  if (match === null || match[1] === '') {
    return { kind: 'malformed', reason: 'the header is not one RFC 8941 byte sequence (:base64:)' };
  }
  const der = Buffer.from(match[1], 'base64');
  try {
    // Only a certificate binds: a byte sequence of anything else is the proxy's mistake, not a mismatch.
    new X509Certificate(der);
  } catch {
    return { kind: 'malformed', reason: 'the header does not hold a DER X.509 certificate' };
  }
  return { kind: 'certificate', thumbprint: certificateThumbprint(der) };
}
