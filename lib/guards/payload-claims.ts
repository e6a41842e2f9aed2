import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import { keepPlainScopes, readScopes } from './scopes';

/** What the guard reads from a valid payload. */
export interface TokenClaims {
  readonly clientId?: string;
  readonly user?: string;
  readonly scopes: readonly string[];
}

/**
 * The key to reject a payload with for its time claims, or `undefined` when they hold now: the part
 * of the checks that depends on the clock, and so runs on every request, cached payload or not.
 */
export function timeClaimsRejection(
  payload: IntrospectionPayload,
  toleranceSeconds: number,
  nowSeconds = Date.now() / 1000,
): OAuth2ErrorKey | undefined {
  const { exp, nbf } = payload;
  if ((exp !== undefined && !isNumericDate(exp)) || (nbf !== undefined && !isNumericDate(nbf))) {
    return OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE;
  }
  if (
    (typeof exp === 'number' && exp + toleranceSeconds <= nowSeconds) ||
    (typeof nbf === 'number' && nbf - toleranceSeconds > nowSeconds)
  ) {
    return OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN;
  }
  return undefined;
}

/** The client, user and scopes of a payload: what does not depend on the clock. Frozen, with a plain copy of the scopes for the scope check. */
export function readClaims(
  payload: IntrospectionPayload,
  reading: { readonly userClaim: string; readonly scopeSeparator: string },
): TokenClaims {
  const scopes = readScopes(payload, reading.scopeSeparator);
  const claims = {
    clientId: readClientId(payload),
    user: readString(payload[reading.userClaim]),
    // Frozen itself (readScopes() made it for this payload alone); keepPlainScopes() slices the plain copy.
    scopes: Object.freeze(scopes),
  };
  return Object.freeze(keepPlainScopes(claims, scopes));
}

/** `client_id`, else `aud`: a string, or the first element of an array. */
export function readClientId(payload: IntrospectionPayload): string | undefined {
  const clientId = readString(payload.client_id);
  if (clientId !== undefined) {
    return clientId;
  }
  const audience = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
  return readString(audience);
}

function readString(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) {
    return value;
  }
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
