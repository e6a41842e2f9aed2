/**
 * `npm start`: the sample orders API. With OAUTH2_INTROSPECTION_URL set, it runs against that
 * authorization server (see sample-config.ts). Without it, it starts an embedded demo authorization
 * server (node-oidc-provider, demo-authorization-server.mjs) on 127.0.0.1 and prints ready-to-paste
 * curl commands. Ctrl-C stops both.
 *
 * Expects the compiled sample in dist-sample/ (`npm start` compiles it first).
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

const require = createRequire(import.meta.url);
// The demo's resource identifier is the API's URL, so its port is known before the API starts (0: one the system gives).
const apiPort = Number(process.env.PORT ?? 3000) || (await freePort());

let demo;
if (!process.env.OAUTH2_INTROSPECTION_URL) {
  const { startOidcProvider } = await import('./demo-authorization-server.mjs');
  const demoPort = Number(process.env.DEMO_AS_PORT ?? 3001);
  demo = await startOidcProvider({ port: demoPort }).catch((error) => exitOnBusyPort(error, demoPort, 'DEMO_AS_PORT'));
  Object.assign(process.env, {
    OAUTH2_INTROSPECTION_URL: demo.introspectionUrl,
    OAUTH2_CLIENT_ID: demo.clients.introspection.clientId,
    OAUTH2_CLIENT_SECRET: demo.clients.introspection.clientSecret,
    // RFC 9728 metadata and audience-bound tokens (RFC 8707): what an MCP client needs.
    OAUTH2_RESOURCE: `http://127.0.0.1:${apiPort}/`,
    OAUTH2_ISSUER: demo.issuer,
    PORT: String(apiPort),
  });
}

const { bootstrap } = require('../dist-sample/sample/main.js');
const app = await bootstrap().catch(async (error) => {
  await demo?.stop();
  return exitOnBusyPort(error, apiPort, 'PORT');
});
const api = (await app.getUrl()).replace('[::1]', '127.0.0.1');

if (demo) {
  const { clientId, clientSecret } = demo.clients.token;
  const resource = process.env.OAUTH2_RESOURCE;
  const token = (scope, audience = resource) =>
    `$(curl -s -u ${clientId}:${clientSecret} -d grant_type=client_credentials -d 'scope=${scope}' -d resource=${audience} ${demo.tokenUrl}` +
    ` | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`;
  const mcpCall = `-H 'Accept: application/json, text/event-stream' -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'`;
  console.log(`
The orders API is on ${api}, guarded by introspection at the demo authorization server ${demo.issuer}.
Paste these in another terminal:

  # tokens from the demo server (client_credentials), bound to this API (RFC 8707 resource=)
  READ_TOKEN=${token('orders:read')}
  WRITE_TOKEN=${token('orders:read orders:write')}
  OTHER_TOKEN=${token('orders:read', 'http://127.0.0.1:1/')}

  curl -i ${api}/health                                          # 200, public
  curl -i -H "Authorization: Bearer $READ_TOKEN" ${api}/orders     # 200, needs orders:read
  curl -i -H "Authorization: Bearer $READ_TOKEN" ${api}/me         # 200, who is calling
  curl -i -H "Authorization: Bearer $WRITE_TOKEN" -H 'Content-Type: application/json' -d '{"item":"tea"}' ${api}/orders   # 201
  curl -i -H "Authorization: Bearer $READ_TOKEN" -H 'Content-Type: application/json' -d '{"item":"tea"}' ${api}/orders    # 403 OAUTH2_INSUFFICIENT_SCOPE
  curl -i ${api}/orders                                          # 401 OAUTH2_MISSING_HEADER
  curl -i -H "Authorization: Bearer not-a-real-token" ${api}/orders   # 401 OAUTH2_INVALID_ACCESS_TOKEN
  curl -i -H "Authorization: Bearer $OTHER_TOKEN" ${api}/orders    # 401, a token for another resource

  # the MCP endpoint (Streamable HTTP): ${api}/mcp
  curl -i ${api}/.well-known/oauth-protected-resource           # 200, RFC 9728 metadata
  curl -i ${mcpCall} ${api}/mcp   # 401, WWW-Authenticate names the metadata
  curl -i -H "Authorization: Bearer $READ_TOKEN" ${mcpCall} ${api}/mcp   # 200, the tools
  An MCP client (such as the MCP SDK's, with client credentials ${clientId} / ${clientSecret}) finds the rest on its own.

Ctrl-C stops the API and the demo server.
`);
} else {
  console.log(
    `The orders API is on ${api}, guarded by introspection at ${process.env.OAUTH2_INTROSPECTION_URL}. Ctrl-C stops it.`,
  );
}

let stopping = false;
const stop = async () => {
  if (stopping) {
    return;
  }
  stopping = true;
  await app.close();
  await demo?.stop();
  console.log('stopped');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

/** A port in use is the likely start-up failure: say which variable moves it. */
function exitOnBusyPort(error, port, variable) {
  if (error?.code === 'EADDRINUSE') {
    console.error(`Port ${port} on 127.0.0.1 is in use. Free it, or choose another: ${variable}=<port> npm start`);
    process.exit(1);
  }
  throw error;
}

/** A port on 127.0.0.1 that nothing listens on now. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
