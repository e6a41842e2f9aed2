/**
 * `npm start`: the sample orders API. With OAUTH2_INTROSPECTION_URL set, it runs against that
 * authorization server (see sample-config.ts). Without it, it starts an embedded demo authorization
 * server (node-oidc-provider, demo-authorization-server.mjs) on 127.0.0.1 and prints ready-to-paste
 * curl commands. Ctrl-C stops both.
 *
 * Expects the compiled sample in dist-sample/ (`npm start` compiles it first).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const apiPort = Number(process.env.PORT ?? 3000);

let demo;
if (!process.env.OAUTH2_INTROSPECTION_URL) {
  const { startOidcProvider } = await import('./demo-authorization-server.mjs');
  const demoPort = Number(process.env.DEMO_AS_PORT ?? 3001);
  demo = await startOidcProvider({ port: demoPort }).catch((error) => exitOnBusyPort(error, demoPort, 'DEMO_AS_PORT'));
  Object.assign(process.env, {
    OAUTH2_INTROSPECTION_URL: demo.introspectionUrl,
    OAUTH2_CLIENT_ID: demo.clients.introspection.clientId,
    OAUTH2_CLIENT_SECRET: demo.clients.introspection.clientSecret,
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
  const token = (scope) =>
    `$(curl -s -u ${clientId}:${clientSecret} -d grant_type=client_credentials -d 'scope=${scope}' ${demo.tokenUrl}` +
    ` | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`;
  console.log(`
The orders API is on ${api}, guarded by introspection at the demo authorization server ${demo.issuer}.
Paste these in another terminal:

  # tokens from the demo server (client_credentials)
  READ_TOKEN=${token('orders:read')}
  WRITE_TOKEN=${token('orders:read orders:write')}

  curl -i ${api}/health                                          # 200, public
  curl -i -H "Authorization: Bearer $READ_TOKEN" ${api}/orders     # 200, needs orders:read
  curl -i -H "Authorization: Bearer $READ_TOKEN" ${api}/me         # 200, who is calling
  curl -i -H "Authorization: Bearer $WRITE_TOKEN" -H 'Content-Type: application/json' -d '{"item":"tea"}' ${api}/orders   # 201
  curl -i -H "Authorization: Bearer $READ_TOKEN" -H 'Content-Type: application/json' -d '{"item":"tea"}' ${api}/orders    # 403 OAUTH2_INSUFFICIENT_SCOPE
  curl -i ${api}/orders                                          # 401 OAUTH2_MISSING_HEADER
  curl -i -H "Authorization: Bearer not-a-real-token" ${api}/orders   # 401 OAUTH2_INVALID_ACCESS_TOKEN

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
