/**
 * A real OAuth2 authorization server: node-oidc-provider (panva), on 127.0.0.1. It is the demo's
 * embedded authorization server (`npm start`, see start.mjs) and the conformance tests' (port 0,
 * chosen by the system).
 *
 * - `client_credentials` grant on (`features.clientCredentials`).
 * - Token introspection, RFC 7662 (`features.introspection`) and revocation, RFC 7009
 *   (`features.revocation`).
 * - Scopes `orders:read` and `orders:write`, declared in the provider's `scopes`. oidc-provider 9
 *   keeps resource indicators (RFC 8707) on by default; a client-credentials request without a
 *   `resource` parameter gets a token for no particular resource server, whose scopes are the
 *   requested ones that the provider's `scopes` list holds (and the client's `scope` allows). Such a
 *   token is opaque (a random string, looked up in the provider's store), so only introspection can
 *   tell whether it is active.
 * - Resource indicators (RFC 8707): a `client_credentials` request with `resource=<URL>` of a server on this
 *   machine (`127.0.0.1` or `localhost`, such as the demo's MCP endpoint) gets an opaque token whose `aud`
 *   is that URL, which introspection reports, so a resource server can refuse tokens issued for another.
 * - Two clients: one that obtains tokens, and one that introspects (the API), whose secret holds
 *   `:`, `%`, `+` and a space, characters that HTTP Basic client authentication must form-encode
 *   (RFC 6749 §2.3.1).
 *
 * This module is ESM because oidc-provider is ESM-only. It is loaded by sample/start.mjs and by the
 * jest global setup (test/support/global-setup.mjs); it can also be run by hand:
 * `node sample/demo-authorization-server.mjs`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

/** The client that obtains tokens (client_credentials). */
export const TOKEN_CLIENT = Object.freeze({
  clientId: 'orders-client',
  clientSecret: 'orders-client-secret',
  scope: 'orders:read orders:write',
});

/** The client the API introspects as. Its secret needs encoding in a Basic header: `:`, `%`, `+`, space. */
export const INTROSPECTION_CLIENT = Object.freeze({
  clientId: 'orders-api',
  clientSecret: 's3cr:et%+ x',
});

/** Whether a resource indicator names a server on this machine: the only ones the demo issues tokens for. */
function isLocalResource(resourceIndicator) {
  try {
    const { protocol, hostname, hash } = new URL(resourceIndicator);
    return (protocol === 'http:' || protocol === 'https:') && ['127.0.0.1', 'localhost'].includes(hostname) && !hash;
  } catch {
    return false;
  }
}

/** The scopes the provider knows, besides `openid`. */
export const SCOPES = Object.freeze(['orders:read', 'orders:write']);

/**
 * A minimal in-memory storage adapter (oidc-provider's adapter interface), one per provider. The
 * provider's own memory adapter is module-wide and prints a "development only" warning; this one
 * is private to the server and silent.
 */
function memoryAdapterFactory() {
  const store = new Map();
  const alive = (key) => {
    const entry = store.get(key);
    if (entry === undefined) {
      return undefined;
    }
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  return class MemoryAdapter {
    constructor(name) {
      this.name = name;
    }
    key(id) {
      return `${this.name}:${id}`;
    }
    async upsert(id, payload, expiresIn) {
      const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
      store.set(this.key(id), { payload: structuredClone(payload), expiresAt });
    }
    async find(id) {
      const payload = alive(this.key(id));
      return payload === undefined ? undefined : structuredClone(payload);
    }
    async findByUserCode(userCode) {
      for (const [key] of store) {
        const payload = key.startsWith(`${this.name}:`) ? alive(key) : undefined;
        if (payload?.userCode === userCode) {
          return structuredClone(payload);
        }
      }
      return undefined;
    }
    async findByUid(uid) {
      for (const [key] of store) {
        const payload = key.startsWith(`${this.name}:`) ? alive(key) : undefined;
        if (payload?.uid === uid) {
          return structuredClone(payload);
        }
      }
      return undefined;
    }
    async consume(id) {
      const entry = store.get(this.key(id));
      if (entry) {
        entry.payload.consumed = Math.floor(Date.now() / 1000);
      }
    }
    async destroy(id) {
      store.delete(this.key(id));
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

/**
 * Imports oidc-provider. On Node 20 it prints one "Unsupported runtime" warning when it is first
 * imported (it asks for Node 22; it works on 20): that one line is dropped, every other line passes.
 */
async function importProvider() {
  const warn = console.warn;
  console.warn = (...args) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) {
      return;
    }
    warn.apply(console, args);
  };
  try {
    return (await import('oidc-provider')).default;
  } finally {
    console.warn = warn;
  }
}

/**
 * Starts node-oidc-provider on 127.0.0.1, on `port` (default 0: chosen by the system).
 *
 * @param {{ port?: number }} [options]
 * @returns {Promise<{
 *   issuer: string, introspectionUrl: string, tokenUrl: string, revocationUrl: string,
 *   clients: { token: typeof TOKEN_CLIENT, introspection: typeof INTROSPECTION_CLIENT },
 *   stop: () => Promise<void>,
 * }>}
 */
export async function startOidcProvider({ port: requestedPort = 0 } = {}) {
  const Provider = await importProvider();
  const { errors } = await import('oidc-provider');

  // The issuer must be known before the provider is built: listen first, then attach the handler.
  let handler = (_request, response) => {
    response.statusCode = 503;
    response.end();
  };
  const server = createServer((request, response) => handler(request, response));
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(requestedPort, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  // Own signing key (for ID tokens, unused here) instead of the development keys, which warn.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'conformance', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    adapter: memoryAdapterFactory(),
    jwks: { keys: [signingKey] },
    cookies: { keys: ['conformance-cookie-key'] },
    clients: [
      {
        client_id: TOKEN_CLIENT.clientId,
        client_secret: TOKEN_CLIENT.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: TOKEN_CLIENT.scope,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        // A resource server: it obtains no token, it only introspects (and may revoke).
        client_id: INTROSPECTION_CLIENT.clientId,
        client_secret: INTROSPECTION_CLIENT.clientSecret,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    scopes: ['openid', ...SCOPES],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Confidential clients only (the default, written out so the provider does not ask for a policy).
        allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none',
      },
      revocation: {
        enabled: true,
        // A client revokes its own tokens; the resource server may revoke any.
        allowedPolicy: async (_ctx, client, token) =>
          token.clientId === client.clientId || client.clientId === INTROSPECTION_CLIENT.clientId,
      },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (!isLocalResource(resourceIndicator)) {
            throw new errors.InvalidTarget();
          }
          return { scope: SCOPES.join(' '), audience: resourceIndicator, accessTokenFormat: 'opaque' };
        },
      },
    },
    ttl: { ClientCredentials: 600 },
  });
  // Errors the provider handles (invalid_client, ...) are answered; they need no log line here.
  provider.on('server_error', (_ctx, error) => console.error('oidc-provider server_error', error));
  handler = provider.callback();

  const stop = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve()));
  };

  return {
    issuer,
    introspectionUrl: `${issuer}/token/introspection`,
    tokenUrl: `${issuer}/token`,
    revocationUrl: `${issuer}/token/revocation`,
    clients: { token: TOKEN_CLIENT, introspection: INTROSPECTION_CLIENT },
    stop,
  };
}

// `node sample/demo-authorization-server.mjs`: run the server until interrupted, printing its addresses.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = await startOidcProvider();
  const { stop, ...described } = started;
  console.log(JSON.stringify(described, null, 2));
  const shutdown = () => void stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
