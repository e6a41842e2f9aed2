import type { OAuth2ModuleOptions } from '../lib';

/**
 * The sample's OAuth2 configuration, from the environment, so the same app runs against any
 * RFC 7662 authorization server:
 * - OAUTH2_INTROSPECTION_URL (required), OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET
 * - OAUTH2_CACHE_TTL_SECONDS (default 60; 0 turns the cache off)
 * - OAUTH2_RESOURCE and OAUTH2_ISSUER (optional, together): the API's resource identifier (its URL, as
 *   clients reach it) and the authorization server's issuer. With them the API serves RFC 9728 metadata,
 *   its challenges point to it (what MCP clients need), and it accepts only tokens whose `aud` is
 *   OAUTH2_RESOURCE (RFC 8707: ask for them with `resource=`).
 */
export function sampleOAuth2Options(env: NodeJS.ProcessEnv = process.env): OAuth2ModuleOptions {
  const introspectionEndpoint = env.OAUTH2_INTROSPECTION_URL;
  if (!introspectionEndpoint) {
    throw new Error("Set OAUTH2_INTROSPECTION_URL to your authorization server's introspection endpoint (RFC 7662).");
  }
  const ttl = Number(env.OAUTH2_CACHE_TTL_SECONDS ?? 60);
  const cached = Number.isInteger(ttl) && ttl > 0;
  return {
    resources: [
      {
        name: 'sample-as',
        type: 'generic',
        introspectionEndpoint,
        clientId: env.OAUTH2_CLIENT_ID,
        clientSecret: env.OAUTH2_CLIENT_SECRET,
      },
    ],
    caches: cached ? [{ name: 'local', timeToLiveSeconds: ttl, maxEntries: 10_000 }] : [],
    policy: { oauthResource: 'sample-as', oauthCacheResource: cached ? 'local' : undefined },
    ...(env.OAUTH2_RESOURCE && {
      protectedResource: {
        resource: env.OAUTH2_RESOURCE,
        authorizationServers: [env.OAUTH2_ISSUER ?? ''],
        resourceName: 'Sample orders API',
      },
    }),
  };
}
