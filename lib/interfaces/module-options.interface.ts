import type { OAuth2CacheResourceOptions } from './cache-options.interface';
import type { OAuth2DecisionHook } from './decision.interface';
import type { OAuth2PolicyOptions } from './policy-options.interface';
import type { OAuth2ProtectedResourceOptions } from './protected-resource-options.interface';
import type { OAuth2ResourceOptions } from './resource-options.interface';
import type { OAuth2ResponseTemplates } from './response-template.interface';
import type { OAuth2TransportOptions } from './transport-options.interface';

/**
 * Which status (and challenge) each error key gets by default:
 * - `documented`: the policy documentation's table (401 for a missing or refused token, 403 for the
 *   rest). The default.
 * - `gateway`: what the Gravitee gateway answers at runtime: 401 for every key but
 *   `OAUTH2_SERVER_UNAVAILABLE`, which is 503.
 * - `rfc`: RFC 6750 and RFC 9110: 401 `invalid_token`, 403 `insufficient_scope`, 400 `invalid_request`
 *   for a Bearer header without a token, 503 with `Retry-After` when the authorization server is down or
 *   answers badly, 403 when no authorization server is configured for the route.
 *
 * Response templates override status, headers and body on top of any profile.
 */
export type OAuth2ErrorProfile = 'documented' | 'gateway' | 'rfc';

/** The options of `OAuth2Module.forRoot()` (and the result of `forRootAsync()`'s factory). */
export interface OAuth2ModuleOptions {
  /** The authorization servers, by name. At least one. */
  resources: OAuth2ResourceOptions[];
  /** The cache resources, by name. */
  caches?: OAuth2CacheResourceOptions[];
  /** The default policy of every guarded route. */
  policy?: OAuth2PolicyOptions;
  /** Responses that replace the default error responses, per key and media type. */
  responseTemplates?: OAuth2ResponseTemplates;
  /** The `realm` of `WWW-Authenticate`. Default `api`. */
  realm?: string;
  /** The status mapping of the error keys. Default `documented`. */
  errorProfile?: OAuth2ErrorProfile;
  /**
   * The `Retry-After` (seconds) of the `rfc` profile's 503 answers, when the authorization server is
   * down or answers badly. An integer from 1 to 86400; default 5.
   */
  retryAfterSeconds?: number;
  /**
   * GraphQL, WebSocket gateways and microservices: which context types the global guard checks, and
   * where the token comes from in each. Defaults: every type is checked; see `OAuth2TokenExtractors`.
   */
  transports?: OAuth2TransportOptions;
  /**
   * RFC 9728 protected-resource metadata: served unguarded at `/.well-known/oauth-protected-resource`
   * (and that path followed by the resource's path), named in every Bearer challenge's `resource_metadata`,
   * and the default of `policy.audiences`. See docs/mcp.md.
   */
  protectedResource?: OAuth2ProtectedResourceOptions;
  /**
   * The origin clients call (with a base path when a proxy adds one), e.g. `https://api.example.com`:
   * the URL a DPoP proof's `htu` must name is this followed by the request's path. Without it, the
   * request's `Host` header and the scheme the framework reports. See docs/dpop.md.
   */
  publicUrl?: string;
  /**
   * RFC 9440: the header (`Client-Cert`) in which a trusted TLS-terminating proxy passes the client's
   * certificate, for certificate-bound tokens (RFC 8705). Set it only when every request comes through
   * that proxy and the proxy replaces any such header a client sends: then the header alone counts, never
   * the certificate of the connection (the proxy's). Default: not read; the certificate is the one of
   * the TLS connection to the application's own HTTPS server. See docs/certificate-bound-tokens.md.
   */
  trustedClientCertificateHeader?: string;
  /**
   * Audit hook: called after each decision of the guard, allowed or rejected, with the error key, the
   * resource, the client and the token's fingerprint (never the token). See {@link OAuth2Decision}.
   */
  onDecision?: OAuth2DecisionHook;
}

/**
 * A class that makes the module's options, for `forRootAsync({ useClass })` or `useExisting`.
 *
 * @example
 * @Injectable()
 * class OAuth2Config implements OAuth2OptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createOAuth2Options(): OAuth2ModuleOptions { return { resources: [...], policy: {...} }; }
 * }
 */
export interface OAuth2OptionsFactory {
  createOAuth2Options(): OAuth2ModuleOptions | Promise<OAuth2ModuleOptions>;
}

/** Options that sit beside the module options in `forRoot()` and `forRootAsync()`. */
export interface OAuth2ModuleExtras {
  /** Bind `OAuth2Guard` to every route of the application (`APP_GUARD`). Default false. */
  global?: boolean;
}
