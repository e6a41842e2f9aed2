/**
 * Jest global setup: starts one real authorization server (node-oidc-provider, see
 * sample/demo-authorization-server.mjs) for the whole run, and passes its address and client credentials to the
 * tests through the environment (test workers are started after this and inherit it):
 *
 * - OIDC_ISSUER, OIDC_TOKEN_URL, OIDC_INTROSPECTION_URL, OIDC_REVOCATION_URL
 * - OIDC_TOKEN_CLIENT_ID, OIDC_TOKEN_CLIENT_SECRET, OIDC_TOKEN_CLIENT_SCOPE: the client that obtains tokens
 * - OIDC_INTROSPECTION_CLIENT_ID, OIDC_INTROSPECTION_CLIENT_SECRET: the client the API introspects as
 *
 * global-teardown.mjs stops it.
 */
import { startOidcProvider } from '../../sample/demo-authorization-server.mjs';

export const OIDC_PROVIDER_KEY = Symbol.for('nestjs-oauth2-policy.test.oidc-provider');

export default async function globalSetup() {
  const provider = await startOidcProvider();
  globalThis[OIDC_PROVIDER_KEY] = provider;
  Object.assign(process.env, {
    OIDC_ISSUER: provider.issuer,
    OIDC_TOKEN_URL: provider.tokenUrl,
    OIDC_INTROSPECTION_URL: provider.introspectionUrl,
    OIDC_REVOCATION_URL: provider.revocationUrl,
    OIDC_TOKEN_CLIENT_ID: provider.clients.token.clientId,
    OIDC_TOKEN_CLIENT_SECRET: provider.clients.token.clientSecret,
    OIDC_TOKEN_CLIENT_SCOPE: provider.clients.token.scope,
    OIDC_INTROSPECTION_CLIENT_ID: provider.clients.introspection.clientId,
    OIDC_INTROSPECTION_CLIENT_SECRET: provider.clients.introspection.clientSecret,
  });
}
