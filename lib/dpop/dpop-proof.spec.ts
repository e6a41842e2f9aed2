import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { DPOP_ALGORITHMS, jwkThumbprint } from './dpop-jwk';
import { DpopNonces } from './dpop-nonce';
import { DpopProofRejection, type DpopProofExpectations, verifyDpopProof } from './dpop-proof';

const HTU = 'https://api.example.com/orders';
const TOKEN = 'access-token-1';
const NOW = 1_800_000_000;

type Alg = 'ES256' | 'ES384' | 'EdDSA' | 'PS256' | 'RS256';

function keyPair(alg: Alg) {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ES384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
    default:
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A proof signed with node:crypto, independently of the code under test's verification. */
function makeProof(alg: Alg, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = keyPair(alg);
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const input = `${b64({ typ: 'dpop+jwt', alg, jwk, ...header })}.${b64({
    jti: randomUUID(),
    htm: 'GET',
    htu: HTU,
    iat: NOW,
    ath: createHash('sha256').update(TOKEN).digest('base64url'),
    ...claims,
  })}`;
  const digest = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  const signature =
    alg === 'EdDSA'
      ? sign(null, Buffer.from(input), privateKey)
      : alg.startsWith('ES')
        ? sign(digest, Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
        : alg.startsWith('PS')
          ? sign(digest, Buffer.from(input), { key: privateKey, padding: 6, saltLength: 32 })
          : sign(digest, Buffer.from(input), privateKey);
  return { proof: `${input}.${signature.toString('base64url')}`, jwk };
}

const expected = (overrides: Partial<DpopProofExpectations> = {}): DpopProofExpectations => ({
  method: 'GET',
  htu: HTU,
  token: TOKEN,
  algorithms: new Set<string>(DPOP_ALGORITHMS),
  now: NOW,
  maxAgeSeconds: 65,
  toleranceSeconds: 5,
  ...overrides,
});

function reason(result: ReturnType<typeof verifyDpopProof>): string {
  return result instanceof DpopProofRejection ? `${result.error}: ${result.reason}` : 'accepted';
}

describe('verifyDpopProof (RFC 9449 §4.3)', () => {
  it.each<Alg>(['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'])(
    'accepts a valid %s proof and gives its key thumbprint',
    (alg) => {
      const { proof, jwk } = makeProof(alg);
      const result = verifyDpopProof(proof, expected());
      expect(reason(result)).toBe('accepted');
      expect(result).toMatchObject({ jkt: jwkThumbprint(jwk), iat: NOW });
    },
  );

  it('refuses each broken check with invalid_dpop_proof', () => {
    const cases: Array<[string, string, DpopProofExpectations?]> = [
      ['typ', makeProof('ES256', {}, { typ: 'JWT' }).proof],
      ['alg not allowed', makeProof('ES256').proof, expected({ algorithms: new Set(['EdDSA']) })],
      ['crit', makeProof('ES256', {}, { crit: ['x'] }).proof],
      ['htm', makeProof('ES256', { htm: 'POST' }).proof],
      ['htu', makeProof('ES256', { htu: 'https://api.example.com/other' }).proof],
      ['stale iat', makeProof('ES256', { iat: NOW - 66 }).proof],
      ['future iat', makeProof('ES256', { iat: NOW + 6 }).proof],
      ['iat as a string', makeProof('ES256', { iat: String(NOW) }).proof],
      ['ath', makeProof('ES256', { ath: 'x' }).proof],
      ['no jti', makeProof('ES256', { jti: '' }).proof],
      ['long jti', makeProof('ES256', { jti: 'j'.repeat(257) }).proof],
    ];
    for (const [name, proof, expectations] of cases) {
      const result = verifyDpopProof(proof, expectations ?? expected());
      expect([name, result instanceof DpopProofRejection && result.error]).toEqual([name, 'invalid_dpop_proof']);
    }
  });

  it('refuses a signature by another key, a private jwk, a key of the wrong curve, and a small RSA key', () => {
    const { proof } = makeProof('ES256');
    const [header, payload] = proof.split('.');
    const other = makeProof('ES256').proof.split('.')[2];
    expect(reason(verifyDpopProof(`${header}.${payload}.${other}`, expected()))).toMatch(/signature/);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateJwk = privateKey.export({ format: 'jwk' });
    expect(reason(verifyDpopProof(makeProof('ES256', {}, { jwk: privateJwk }).proof, expected()))).toMatch(/private/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    expect(reason(verifyDpopProof(makeProof('ES256', {}, { jwk: p384 }).proof, expected()))).toMatch(/P-256/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(reason(verifyDpopProof(makeProof('RS256', {}, { jwk: small }).proof, expected()))).toMatch(/2048/);
  });

  it('asks for the server nonce (use_dpop_nonce) only once everything else holds', () => {
    const nonces = new DpopNonces('n'.repeat(32), 300);
    const nonce = nonces.current();
    expect(reason(verifyDpopProof(makeProof('ES256').proof, expected({ nonces })))).toMatch(/^use_dpop_nonce/);
    expect(reason(verifyDpopProof(makeProof('ES256', { nonce }).proof, expected({ nonces })))).toBe('accepted');
    expect(reason(verifyDpopProof(makeProof('ES256', { htm: 'PUT' }).proof, expected({ nonces })))).toMatch(
      /^invalid_dpop_proof/,
    );
  });

  it('never throws on malformed input', () => {
    for (const proof of [
      '',
      '.',
      '..',
      'a.b.c',
      `${b64(null)}.${b64({})}.AA`,
      `${b64({ typ: 'dpop+jwt' })}.e30.AA`,
      'é.é.é',
    ]) {
      expect(verifyDpopProof(proof, expected())).toBeInstanceOf(DpopProofRejection);
    }
  });
});

describe('jwkThumbprint (RFC 7638)', () => {
  it("gives RFC 7638 §3.1's example thumbprint", () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});
