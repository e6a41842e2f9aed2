/**
 * A real authorization server for the certificate-binding (RFC 8705) and signed-introspection (RFC 9701)
 * tests: node-oidc-provider 9 on 127.0.0.1, port 0, run in a child process (oidc-provider is ESM-only, and
 * the Nest 11 leg runs in CommonJS). It prints one JSON line with its addresses, then serves until its
 * stdin closes or it gets SIGTERM.
 *
 * - `features.mTLS.certificateBoundAccessTokens`: a client registered with
 *   `tls_client_certificate_bound_access_tokens` gets tokens bound to its certificate (`cnf["x5t#S256"]` in
 *   the introspection answer). The provider sits behind a TLS-terminating proxy, as it would in
 *   production: `getCertificate` reads the client's certificate from the RFC 9440 `Client-Cert` header that
 *   the proxy (here: the test) sets.
 * - `features.jwtIntrospection`: a client registered with `introspection_signed_response_alg` that asks with
 *   `Accept: application/token-introspection+jwt` gets a signed answer (RFC 9701), signed with the
 *   provider's key, whose JWK set is at `jwks_uri`.
 */
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

export const CLIENTS = Object.freeze({
  /** Obtains certificate-bound tokens. */
  bound: { clientId: 'bound-client', clientSecret: 'bound-client-secret' },
  /** Obtains plain bearer tokens. */
  plain: { clientId: 'plain-client', clientSecret: 'plain-client-secret' },
  /** A resource server that gets RFC 7662 JSON answers. */
  jsonResourceServer: { clientId: 'rs-json', clientSecret: 'rs-json-secret' },
  /** A resource server that gets RFC 9701 signed answers when it asks for them. */
  jwtResourceServer: { clientId: 'rs-jwt', clientSecret: 'rs-jwt-secret' },
});

/** RFC 9440 §2.1: `:base64(DER):`, as a trusted proxy sets it. */
function certificateOfHeader(value) {
  const match = typeof value === 'string' ? /^:([A-Za-z0-9+/=]+):$/.exec(value.trim()) : null;
  return match ? new X509Certificate(Buffer.from(match[1], 'base64')) : undefined;
}

const warn = console.warn;
// oidc-provider warns once on Node 20 (it asks for 22, and works on 20) and about its development adapter.
console.warn = () => {};
const { default: Provider } = await import('oidc-provider');
console.warn = warn;

let handler = (_request, response) => {
  response.statusCode = 503;
  response.end();
};
const server = createServer((request, response) => handler(request, response));
server.keepAliveTimeout = 1000;
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'sender-constrained', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  jwks: { keys: [signingKey] },
  cookies: { keys: ['sender-constrained-cookie-key'] },
  clients: [
    {
      client_id: CLIENTS.bound.clientId,
      client_secret: CLIENTS.bound.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      tls_client_certificate_bound_access_tokens: true,
    },
    {
      client_id: CLIENTS.plain.clientId,
      client_secret: CLIENTS.plain.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: CLIENTS.jsonResourceServer.clientId,
      client_secret: CLIENTS.jsonResourceServer.clientSecret,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: CLIENTS.jwtResourceServer.clientId,
      client_secret: CLIENTS.jwtResourceServer.clientSecret,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      introspection_signed_response_alg: 'RS256',
    },
  ],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none' },
    jwtIntrospection: { enabled: true },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      getCertificate: (ctx) => certificateOfHeader(ctx.get('client-cert')),
    },
  },
  ttl: { ClientCredentials: 600 },
});
provider.on('server_error', (_ctx, error) => console.error('oidc-provider server_error', error));
handler = provider.callback();

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();

console.log(
  JSON.stringify({
    issuer,
    tokenUrl: `${issuer}/token`,
    introspectionUrl: `${issuer}/token/introspection`,
    jwksUrl: `${issuer}/jwks`,
    clients: CLIENTS,
  }),
);
