import { SignedIntrospectionServer, type SigningKey, signingKey } from '../../test/support/signed-introspection-server';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { AuthorizationServerClient } from './authorization-server.client';
import { AuthorizationServerError } from './authorization-server.error';
import { MIN_JWKS_REFETCH_MS, SignedIntrospectionVerifier } from './signed-introspection';

/**
 * The verifier of RFC 9701 answers against a scripted server on 127.0.0.1, on a clock of the test's: how
 * often it fetches the JWK set, and which key each failure of the set maps to.
 */

let server: SignedIntrospectionServer;
let client: AuthorizationServerClient;
let k1: SigningKey;
let clock = 1_000_000;
const now = () => clock;

beforeAll(async () => {
  server = await SignedIntrospectionServer.start();
  k1 = await signingKey('k1');
  client = new AuthorizationServerClient('as', { timeout: 5000, maxResponseBytes: 65536, circuitBreaker: false });
});
afterAll(async () => {
  client?.close();
  await server?.close();
});
beforeEach(() => {
  server.published = [k1];
  server.jwksFetches = 0;
});

const verifier = (jwksUri = `${server.issuer}/jwks`) =>
  new SignedIntrospectionVerifier(client, { issuer: server.issuer, audience: 'rs', jwksUri }, now);

async function failureOf(promise: Promise<unknown>): Promise<AuthorizationServerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthorizationServerError);
    return error as AuthorizationServerError;
  }
  throw new Error('the answer was accepted');
}

it('returns the token_introspection member, and shares one fetch among concurrent first answers', async () => {
  const answers = new SignedIntrospectionVerifier(client, { issuer: server.issuer, audience: 'rs' }, now);
  expect(answers.needsJwksUri).toBe(true);
  answers.useDiscoveredJwksUri(`${server.issuer}/jwks`);
  const body = await server.sign(k1);
  const results = await Promise.all(Array.from({ length: 5 }, () => answers.verify(body)));
  expect(results[0]).toEqual({ active: true, client_id: 'orders-client', scope: 'orders:read' });
  expect(server.jwksFetches).toBe(1);
});

it('fetches the keys again on an unknown kid at most once a minute', async () => {
  const answers = verifier();
  expect(await answers.verify(await server.sign(k1))).toMatchObject({ active: true });
  const stray = await server.sign(await signingKey('stray'));
  expect((await failureOf(answers.verify(stray))).key).toBe(OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE);
  expect(server.jwksFetches).toBe(2);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    await failureOf(answers.verify(stray));
  }
  expect(server.jwksFetches).toBe(2);
  clock += MIN_JWKS_REFETCH_MS - 1;
  await failureOf(answers.verify(stray));
  expect(server.jwksFetches).toBe(2);
  clock += 1;
  await failureOf(answers.verify(stray));
  expect(server.jwksFetches).toBe(3);
});

it('maps a JWK set that cannot be fetched to OAUTH2_SERVER_UNAVAILABLE, and one that is not a set to OAUTH2_INVALID_SERVER_RESPONSE', async () => {
  const body = await server.sign(k1);
  expect((await failureOf(verifier(`${server.issuer}/missing`).verify(body))).key).toBe(
    OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE,
  );
  expect((await failureOf(verifier(`${server.issuer}/.well-known/openid-configuration`).verify(body))).key).toBe(
    OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE,
  );
});

it('names the claim at fault, and nothing of the answer', async () => {
  const body = await server.sign(k1, { aud: 'another-client' });
  const failure = await failureOf(verifier().verify(body));
  expect(failure.message).toMatch(/does not verify \(ERR_JWT_CLAIM_VALIDATION_FAILED, claim aud\)/);
  expect(failure.message).not.toContain(body.split('.')[1]);
});
