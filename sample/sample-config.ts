import type { OAuth2ModuleOptions } from '../lib';

/**
 * The sample's OAuth2 configuration, from the environment, so the same app runs against any
 * RFC 7662 authorization server:
 * - OAUTH2_INTROSPECTION_URL (required), OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET
 * - OAUTH2_CACHE_TTL_SECONDS (default 60; 0 turns the cache off)
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
  };
}
