import type { OAuth2ErrorProfile } from '../interfaces/module-options.interface';
import { DEFAULT_ERRORS } from './error-messages';
import { OAuth2ErrorKey } from './oauth2-error-key.enum';

/** Every error profile, the default first. */
export const ERROR_PROFILES: readonly OAuth2ErrorProfile[] = ['documented', 'gateway', 'rfc'];

/** Default `Retry-After`, in seconds, of the `rfc` profile's 503 answers. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** The RFC 6750 §3.1 error code a challenge carries. */
type ChallengeError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * How one key is answered under one profile: its status, whether `WWW-Authenticate` is sent (and with
 * which RFC 6750 error code), and whether `Retry-After` is.
 */
export interface ErrorProfileEntry {
  readonly status: number;
  /** `false`: no challenge; `true`: a challenge without an error code; a string: with that error code. */
  readonly challenge: boolean | ChallengeError;
  readonly retryAfter: boolean;
}

const K = OAuth2ErrorKey;

/**
 * The challenges of the documented table, which the gateway profile keeps: none for a missing server
 * (the fault is the configuration, not the client's), `invalid_token` for a refused token,
 * `insufficient_scope` for missing scopes, and a bare challenge otherwise, no token having been judged.
 */
const DOCUMENTED_CHALLENGES: Readonly<Record<OAuth2ErrorKey, boolean | ChallengeError>> = {
  [K.OAUTH2_MISSING_SERVER]: false,
  [K.OAUTH2_MISSING_HEADER]: true,
  [K.OAUTH2_MISSING_ACCESS_TOKEN]: true,
  [K.OAUTH2_INVALID_ACCESS_TOKEN]: 'invalid_token',
  [K.OAUTH2_INVALID_SERVER_RESPONSE]: true,
  [K.OAUTH2_SERVER_UNAVAILABLE]: true,
  [K.OAUTH2_INSUFFICIENT_SCOPE]: 'insufficient_scope',
};

function table(
  status: (key: OAuth2ErrorKey) => number,
  challenge: (key: OAuth2ErrorKey) => boolean | ChallengeError,
  retryAfter: (key: OAuth2ErrorKey) => boolean = () => false,
): Readonly<Record<OAuth2ErrorKey, ErrorProfileEntry>> {
  const entries = Object.values(OAuth2ErrorKey).map((key) => [
    key,
    { status: status(key), challenge: challenge(key), retryAfter: retryAfter(key) },
  ]);
  return Object.freeze(Object.fromEntries(entries)) as Record<OAuth2ErrorKey, ErrorProfileEntry>;
}

/** Statuses of the `rfc` profile. */
const RFC_STATUS: Readonly<Record<OAuth2ErrorKey, number>> = {
  // No authorization server for the route: no credential can succeed, so not 401 (whose challenge would
  // invite one), and not 503 (whose Retry-After would invite retries that cannot succeed either).
  [K.OAUTH2_MISSING_SERVER]: 403,
  [K.OAUTH2_MISSING_HEADER]: 401,
  // `Bearer` with no token: a malformed request (RFC 6750 §3.1 invalid_request).
  [K.OAUTH2_MISSING_ACCESS_TOKEN]: 400,
  [K.OAUTH2_INVALID_ACCESS_TOKEN]: 401,
  // The token could not be judged: the server's failure, not the client's; retrying later may work.
  [K.OAUTH2_INVALID_SERVER_RESPONSE]: 503,
  [K.OAUTH2_SERVER_UNAVAILABLE]: 503,
  [K.OAUTH2_INSUFFICIENT_SCOPE]: 403,
};

const RFC_CHALLENGES: Readonly<Record<OAuth2ErrorKey, boolean | ChallengeError>> = {
  ...DOCUMENTED_CHALLENGES,
  [K.OAUTH2_MISSING_ACCESS_TOKEN]: 'invalid_request',
  // A 503 is no authentication challenge: RFC 6750 defines none for it.
  [K.OAUTH2_INVALID_SERVER_RESPONSE]: false,
  [K.OAUTH2_SERVER_UNAVAILABLE]: false,
};

/** Each profile's answer for each key. See {@link OAuth2ErrorProfile}. */
export const ERROR_PROFILE_TABLES: Readonly<
  Record<OAuth2ErrorProfile, Readonly<Record<OAuth2ErrorKey, ErrorProfileEntry>>>
> = Object.freeze({
  documented: table(
    (key) => DEFAULT_ERRORS[key].status,
    (key) => DOCUMENTED_CHALLENGES[key],
  ),
  // The gateway's runtime statuses. It challenges on every key but the missing server, as the documented table does.
  gateway: table(
    (key) => (key === K.OAUTH2_SERVER_UNAVAILABLE ? 503 : 401),
    (key) => DOCUMENTED_CHALLENGES[key],
  ),
  rfc: table(
    (key) => RFC_STATUS[key],
    (key) => RFC_CHALLENGES[key],
    (key) => RFC_STATUS[key] === 503,
  ),
});

/**
 * How a malformed request (RFC 6750 §3.1 `invalid_request`: a token outside the b64token syntax,
 * several credentials) is answered, in the profiles where that differs from its key's answer.
 */
const INVALID_REQUEST_ENTRIES: Readonly<Partial<Record<OAuth2ErrorProfile, ErrorProfileEntry>>> = Object.freeze({
  rfc: Object.freeze({ status: 400, challenge: 'invalid_request', retryAfter: false }),
});

/** How a key is answered under a profile; `invalidRequest`: for a malformed request (see `OAuth2ExceptionDetails`). */
export function errorProfileEntry(
  profile: OAuth2ErrorProfile,
  key: OAuth2ErrorKey,
  invalidRequest = false,
): ErrorProfileEntry {
  return (invalidRequest && INVALID_REQUEST_ENTRIES[profile]) || ERROR_PROFILE_TABLES[profile][key];
}
