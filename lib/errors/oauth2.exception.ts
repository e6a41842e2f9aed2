import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { DEFAULT_ERRORS } from './error-messages';
import { type OAuth2ErrorKey } from './oauth2-error-key.enum';

/** What the guard knows about a rejection besides its key, used to write `WWW-Authenticate`. */
export interface OAuth2ExceptionDetails {
  /** The scopes the route requires, for `scope="..."` on `OAUTH2_INSUFFICIENT_SCOPE`. */
  readonly requiredScopes?: readonly string[];
  /**
   * The authorization server's own `Retry-After` (it answered 429 or 503 with one), in seconds: the
   * `rfc` profile passes it on instead of `retryAfterSeconds`.
   */
  readonly retryAfterSeconds?: number;
  /**
   * The request is malformed (RFC 6750 §3.1 `invalid_request`): a token outside RFC 6750's b64token
   * syntax, or, in the `rfc` profile, more than one credential. The `rfc` profile answers 400
   * `invalid_request`; the others answer as for the key.
   */
  readonly invalidRequest?: boolean;
  /** The route accepts DPoP (RFC 9449): the challenge names it. */
  readonly dpop?: OAuth2DpopChallenge;
}

/** What the `DPoP` challenge of a rejection says (RFC 9449 §7.1). */
export interface OAuth2DpopChallenge {
  /** The algorithms a proof may use, space-separated. */
  readonly algs: string;
  /** Bearer is accepted too: both challenges are sent, Bearer first. */
  readonly bearer: boolean;
  /** The request used the DPoP scheme: the key's error code goes on the DPoP challenge. */
  readonly usedDpop: boolean;
  /** A fault of the proof, on the DPoP challenge whatever the scheme used. */
  readonly error?: 'invalid_dpop_proof' | 'use_dpop_nonce';
  /** A fresh server nonce, sent as the `DPoP-Nonce` header (RFC 9449 §9). */
  readonly nonce?: string;
}

/** The default JSON body of a rejected request: Nest's shape plus the key. */
export interface OAuth2ErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
  readonly key: OAuth2ErrorKey;
}

/**
 * What {@link OAuth2Guard} throws when it rejects a request. It is an `HttpException` with the
 * policy's default status and body, so it renders sensibly even without the module's filter; the
 * module's filter adds `WWW-Authenticate` and applies response templates.
 *
 * It never holds the access token nor anything the authorization server answered.
 *
 * @example
 * catch (error) {
 *   if (error instanceof OAuth2Exception && error.key === OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE) { ... }
 * }
 */
export class OAuth2Exception extends HttpException {
  /** The policy's error key. */
  readonly key: OAuth2ErrorKey;
  /** What `WWW-Authenticate` needs besides the key. */
  readonly details: OAuth2ExceptionDetails;

  constructor(key: OAuth2ErrorKey, details: OAuth2ExceptionDetails = {}) {
    const { status, message } = DEFAULT_ERRORS[key];
    const body: OAuth2ErrorBody = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, key };
    super(body, status);
    this.name = 'OAuth2Exception';
    this.key = key;
    this.details = details;
  }
}
