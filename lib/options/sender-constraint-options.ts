import { isJsonObject } from '../common/is-json-object';
import { type OptionProblem, isHeaderName } from './option-problem';

/**
 * Start-up checks of the options for certificate-bound tokens (RFC 8705, RFC 9440) and signed
 * introspection answers (RFC 9701). The types and ranges of single fields are the schemas' job; these
 * are the checks that need the neighbouring fields.
 */

/** Headers a proxy cannot use for the certificate: they carry something else that the module reads. */
const RESERVED_HEADERS = ['authorization', 'host', 'content-type', 'content-length', 'dpop'];

/** Problems with the module's `trustedClientCertificateHeader` (RFC 9440). */
export function clientCertificateHeaderProblems(raw: unknown, field: string): OptionProblem[] {
  if (raw === undefined) {
    return [];
  }
  if (typeof raw !== 'string' || !isHeaderName(raw)) {
    return [
      {
        field,
        problem:
          "must be the name of the header in which your TLS-terminating proxy passes the client certificate, e.g. 'Client-Cert' (RFC 9440).",
      },
    ];
  }
  if (RESERVED_HEADERS.includes(raw.toLowerCase())) {
    return [{ field, problem: `names ${raw}, which carries something else: use 'Client-Cert' (RFC 9440).` }];
  }
  return [];
}

/**
 * The module's `trustedClientCertificateHeader` as Node names headers (lower case), or `undefined`
 * when the header is not to be read.
 */
export function resolveClientCertificateHeader(raw: string | undefined): string | undefined {
  return raw?.toLowerCase();
}

/**
 * Problems with a generic resource's `introspectionResponseFormat` and `jwksUri` (RFC 9701): signed
 * answers are checked against the issuer (`iss`), the resource's client (`aud`) and the issuer's keys.
 */
export function signedIntrospectionProblems(resource: unknown, field: string): OptionProblem[] {
  if (!isJsonObject(resource)) {
    return [];
  }
  const { introspectionResponseFormat: format, jwksUri, issuer, clientId } = resource;
  const problems: OptionProblem[] = [];
  if (format !== 'jwt') {
    if (jwksUri !== undefined) {
      problems.push({
        field: `${field}.jwksUri`,
        problem:
          "is only used to verify signed introspection answers: set introspectionResponseFormat: 'jwt', or remove jwksUri.",
      });
    }
    return problems;
  }
  if (issuer === undefined) {
    problems.push({
      field: `${field}.introspectionResponseFormat`,
      problem:
        jwksUri === undefined
          ? "is 'jwt', but the resource has no issuer, from whose metadata the signing keys (jwks_uri) come and which a signed answer's iss must name (RFC 9701 §5): set issuer: 'https://as.example.com' instead of introspectionEndpoint (the endpoint is discovered too)."
          : "is 'jwt', but the resource has no issuer, which a signed answer's iss must name (RFC 9701 §5): set issuer: 'https://as.example.com' instead of introspectionEndpoint (jwksUri still names the keys).",
    });
  }
  if (clientId === undefined) {
    problems.push({
      field: `${field}.clientId`,
      problem:
        "is required with introspectionResponseFormat 'jwt': a signed answer's aud is the client that introspects (RFC 9701 §5).",
    });
  }
  return problems;
}
