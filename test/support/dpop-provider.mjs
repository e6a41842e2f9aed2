/**
 * A real authorization server that issues DPoP-bound access tokens (RFC 9449): node-oidc-provider with
 * `features.dPoP`, `client_credentials` and introspection, on 127.0.0.1 and a port the system picks.
 * Its access tokens are opaque; introspection answers `token_type: "DPoP"` and `cnf.jkt`.
 *
 * oidc-provider is ESM-only, so the tests of both Nest legs run this script in a child process: it
 * prints one JSON line `{ issuer, tokenUrl, introspectionUrl, client, introspector }` on stdout, and
 * serves until it is killed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

const CLIENT = { clientId: 'dpop-client', clientSecret: 'dpop-client-secret' };
const INTROSPECTOR = { clientId: 'dpop-api', clientSecret: 'dpop-api-secret' };

/** A private in-memory adapter (the provider's own warns that it is for development). */
function memoryAdapter() {
  const store = new Map();
  return class MemoryAdapter {
    constructor(name) {
      this.name = name;
    }
    async upsert(id, payload, expiresIn) {
      store.set(`${this.name}:${id}`, { payload: structuredClone(payload), expiresAt: Date.now() + expiresIn * 1000 });
    }
    async find(id) {
      const entry = store.get(`${this.name}:${id}`);
      return entry && entry.expiresAt > Date.now() ? structuredClone(entry.payload) : undefined;
    }
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id) {
      const entry = store.get(`${this.name}:${id}`);
      if (entry) {
        entry.payload.consumed = Math.floor(Date.now() / 1000);
      }
    }
    async destroy(id) {
      store.delete(`${this.name}:${id}`);
    }
    async revokeByGrantId(grantId) {
      for (const [key, entry] of store) {
        if (entry.payload?.grantId === grantId) {
          store.delete(key);
        }
      }
    }
  };
}

const warn = console.warn;
console.warn = (...args) => {
  // On Node 20, oidc-provider 9 warns once that it prefers Node 22; it works.
  if (!(typeof args[0] === 'string' && args[0].includes('Unsupported runtime'))) {
    warn.apply(console, args);
  }
};
const { default: Provider } = await import('oidc-provider');
console.warn = warn;

let handler = (_request, response) => {
  response.statusCode = 503;
  response.end();
};
const server = createServer((request, response) => handler(request, response));
server.keepAliveTimeout = 1000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const provider = new Provider(issuer, {
  adapter: memoryAdapter(),
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'dpop-test', alg: 'RS256', use: 'sig' }] },
  cookies: { keys: ['dpop-test-cookie-key'] },
  clients: [
    {
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'orders:read',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: INTROSPECTOR.clientId,
      client_secret: INTROSPECTOR.clientSecret,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  scopes: ['openid', 'orders:read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none' },
  },
  ttl: { ClientCredentials: 600 },
});
provider.on('server_error', (_ctx, error) => console.error('oidc-provider server_error', error));
handler = provider.callback();

process.stdout.write(
  `${JSON.stringify({
    issuer,
    tokenUrl: `${issuer}/token`,
    introspectionUrl: `${issuer}/token/introspection`,
    client: CLIENT,
    introspector: INTROSPECTOR,
  })}\n`,
);
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
