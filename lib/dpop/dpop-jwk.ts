import { type JsonWebKey, type KeyObject, createPublicKey, hash } from 'node:crypto';

/**
 * The JWS algorithms a DPoP proof may use (RFC 9449 §4.3: asymmetric, never `none` nor a MAC): the
 * asymmetric algorithms jose supports, which `node:crypto` verifies directly.
 */
export const DPOP_ALGORITHMS = Object.freeze([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
] as const);

/** One of {@link DPOP_ALGORITHMS}. */
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/** The curve each ECDSA algorithm signs with (RFC 7518 §3.4). */
const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
/** Smallest RSA modulus accepted, in bits (RFC 7518 §3.3). */
const MIN_RSA_BITS = 2048;

/** How many public keys {@link publicKeyOf} keeps, by their JWK: past it, the oldest goes first. */
const MAX_KEPT_KEYS = 10_000;
/**
 * Public keys already read, by their RFC 7638 canonical JWK: a client signs every proof with the same
 * key, and reading a JWK into a `KeyObject` costs about as much as verifying a signature.
 */
const KEPT_KEYS = new Map<string, KeyObject>();

/**
 * The public key of a proof's `jwk` header for its `alg`, or a reason to refuse it: a key of another
 * type or curve than the algorithm's, a private key (RFC 9449 §4.3 check 7), an RSA key under 2048 bits.
 */
export function publicKeyOf(jwk: Record<string, unknown>, alg: DpopAlgorithm): KeyObject | string {
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) {
    return 'the jwk holds private or symmetric key material';
  }
  if (alg === 'EdDSA') {
    if (jwk.kty !== 'OKP' || (jwk.crv !== 'Ed25519' && jwk.crv !== 'Ed448')) {
      return 'EdDSA needs an OKP key on Ed25519 or Ed448';
    }
  } else if (alg.startsWith('ES')) {
    if (jwk.kty !== 'EC' || jwk.crv !== EC_CURVES[alg]) {
      return `${alg} needs an EC key on ${EC_CURVES[alg]}`;
    }
  } else if (jwk.kty !== 'RSA') {
    return `${alg} needs an RSA key`;
  }
  const canonical = canonicalJwk(jwk);
  if (canonical === undefined) {
    return 'the jwk lacks a member of its key type';
  }
  const kept = KEPT_KEYS.get(canonical);
  if (kept !== undefined) {
    return kept;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: JSON.parse(canonical) as JsonWebKey, format: 'jwk' });
  } catch {
    return 'the jwk is not a valid public key';
  }
  if (jwk.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    return `RSA keys need at least ${MIN_RSA_BITS} bits`;
  }
  if (KEPT_KEYS.size >= MAX_KEPT_KEYS) {
    KEPT_KEYS.delete(KEPT_KEYS.keys().next().value as string);
  }
  KEPT_KEYS.set(canonical, key);
  return key;
}

/** The members of each key type that its RFC 7638 thumbprint covers, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: what `cnf.jkt` holds (RFC 9449 §6.1).
 * Written here, synchronously, rather than with jose's `calculateJwkThumbprint`, which is async: the
 * guard's check of a proof then needs no promise. `undefined` for a key type or member it cannot read.
 */
export function jwkThumbprint(jwk: Record<string, unknown>): string | undefined {
  const canonical = canonicalJwk(jwk);
  return canonical === undefined ? undefined : hash('sha256', canonical, 'base64url');
}

/**
 * RFC 7638 §3's canonical form of a public JWK: its key type's required members only, in lexicographic
 * order, without whitespace. `undefined` for a key type or member it cannot read.
 */
function canonicalJwk(jwk: Record<string, unknown>): string | undefined {
  const members = typeof jwk.kty === 'string' ? THUMBPRINT_MEMBERS[jwk.kty] : undefined;
  if (members === undefined) {
    return undefined;
  }
  const canonical: Record<string, string> = {};
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== 'string') {
      return undefined;
    }
    canonical[member] = value;
  }
  // JSON.stringify writes the members in insertion order, the lexicographic order above (the values
  // are base64url or names: nothing to escape).
  return JSON.stringify(canonical);
}
