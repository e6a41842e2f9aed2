import { type KeyObject, constants, hash, verify } from 'node:crypto';
import { isJsonObject } from '../common/is-json-object';
import { type DpopAlgorithm, jwkThumbprint, publicKeyOf } from './dpop-jwk';
import { normaliseHtu } from './dpop-htu';
import type { DpopNonces } from './dpop-nonce';

/** Longest proof read, in characters: a proof with an RSA-4096 key is under 2 KB. */
export const MAX_DPOP_PROOF_LENGTH = 8192;
/** Longest `jti` accepted (RFC 9449 §4.2 asks for 96 bits of randomness at least; nothing needs more than this). */
const MAX_JTI_LENGTH = 256;
/** A base64url segment, without padding (RFC 7515 §2). */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** What a proof must match: the request, the token, and the route's DPoP settings. */
export interface DpopProofExpectations {
  /** The request's method, as received (`htm` is compared exactly, RFC 9449 §4.3 check 8). */
  readonly method: string;
  /** The request's normalised URL (see `requestHtu`). */
  readonly htu: string;
  /** The access token the proof goes with, for `ath`. */
  readonly token: string;
  readonly algorithms: ReadonlySet<string>;
  /** Now, in seconds. */
  readonly now: number;
  /** How old a proof may be, in seconds (`iat` in the past), clock tolerance included. */
  readonly maxAgeSeconds: number;
  /** How far in the future `iat` may be, in seconds: the clock tolerance. */
  readonly toleranceSeconds: number;
  /** The route's server nonces, when it asks for them. */
  readonly nonces?: DpopNonces;
}

/** A proof that passed every check but the key binding and the replay check, which need more than the proof. */
export interface VerifiedDpopProof {
  /** The RFC 7638 thumbprint of the proof's key, to compare with the token's `cnf.jkt`. */
  readonly jkt: string;
  readonly jti: string;
  readonly iat: number;
}

/**
 * Why a proof is refused: `invalid_dpop_proof`, or `use_dpop_nonce` when only the server nonce is
 * missing or stale (RFC 9449 §7.1, §9). `reason` is for the debug log; it holds nothing of the proof.
 */
export class DpopProofRejection {
  constructor(
    readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce',
    readonly reason: string,
  ) {}
}

/**
 * Checks a DPoP proof as RFC 9449 §4.3 lists (checks 2–12; the thumbprint against `cnf.jkt` and the
 * `jti` replay check are the caller's): a compact JWS of three base64url segments, `typ` `dpop+jwt`,
 * an allowed asymmetric `alg`, a public `jwk` of the algorithm's key type, a valid signature under
 * it, `htm` and `htu` of this request, `iat` within the window, `ath` of the token, a `jti`, and the
 * server's nonce when the route asks for one.
 *
 * Synchronous, with `node:crypto`: verifying costs the same as with jose's `compactVerify` (which
 * calls the same primitives) but needs no promise, so a DPoP request whose token's answer is in the
 * memory cache is decided at once, as a Bearer request is. Never throws: malformed input is a rejection.
 */
export function verifyDpopProof(
  proof: string,
  expected: DpopProofExpectations,
): VerifiedDpopProof | DpopProofRejection {
  if (proof.length > MAX_DPOP_PROOF_LENGTH) {
    return invalid('the proof is too long');
  }
  const segments = proof.split('.');
  if (segments.length !== 3 || !segments.every((segment) => BASE64URL.test(segment))) {
    return invalid('not a compact JWS');
  }
  const header = decodeJson(segments[0]);
  if (header === undefined) {
    return invalid('the header is not a JSON object');
  }
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') {
    return invalid("typ is not 'dpop+jwt'");
  }
  if (typeof header.alg !== 'string' || !expected.algorithms.has(header.alg)) {
    return invalid('alg is not allowed');
  }
  if (header.crit !== undefined) {
    return invalid('crit names extensions this server does not understand');
  }
  if (!isJsonObject(header.jwk)) {
    return invalid('no jwk header');
  }
  const alg = header.alg as DpopAlgorithm;
  const key = publicKeyOf(header.jwk, alg);
  if (typeof key === 'string') {
    return invalid(key);
  }
  if (!signatureHolds(alg, key, `${segments[0]}.${segments[1]}`, Buffer.from(segments[2], 'base64url'))) {
    return invalid('the signature does not verify with the jwk');
  }
  const claims = decodeJson(segments[1]);
  if (claims === undefined) {
    return invalid('the payload is not a JSON object');
  }
  const { jti, htm, htu, iat, ath } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    return invalid('no usable jti');
  }
  if (htm !== expected.method) {
    return invalid('htm is not the request method');
  }
  if (typeof htu !== 'string' || normaliseHtu(htu) !== expected.htu) {
    return invalid('htu is not the request URL');
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    return invalid('no iat');
  }
  if (iat < expected.now - expected.maxAgeSeconds || iat > expected.now + expected.toleranceSeconds) {
    return invalid('iat is outside the accepted window');
  }
  if (ath !== hash('sha256', expected.token, 'base64url')) {
    return invalid('ath is not the hash of the access token');
  }
  const jkt = jwkThumbprint(header.jwk);
  if (jkt === undefined) {
    return invalid('the jwk has no thumbprint');
  }
  if (expected.nonces !== undefined && !expected.nonces.accepts(claims.nonce)) {
    return new DpopProofRejection('use_dpop_nonce', 'the server nonce is missing or stale');
  }
  return { jkt, jti, iat };
}

function invalid(reason: string): DpopProofRejection {
  return new DpopProofRejection('invalid_dpop_proof', reason);
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The digest of each algorithm's signature (RFC 7518 §3). */
function digestOf(alg: DpopAlgorithm): string {
  return `sha${alg.slice(2)}`;
}

function signatureHolds(alg: DpopAlgorithm, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  const data = Buffer.from(signingInput, 'ascii');
  try {
    if (alg === 'EdDSA') {
      return verify(null, data, key, signature);
    }
    if (alg.startsWith('ES')) {
      // JWS carries ECDSA signatures as r || s (RFC 7518 §3.4), not DER.
      return verify(digestOf(alg), data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    if (alg.startsWith('PS')) {
      return verify(
        digestOf(alg),
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      );
    }
    return verify(digestOf(alg), data, key, signature);
  } catch {
    return false;
  }
}
