/** HTTP methods an authorization-server endpoint may be called with. */
export type OAuth2HttpMethod = 'GET' | 'POST';

/** Options shared by every authorization-server resource. */
export interface OAuth2ResourceCommonOptions {
  /** The name the policy refers to in `oauthResource`. Unique among resources. */
  name: string;
  /** The claim of the introspection payload that names the user (the `user` attribute). Default `sub`. */
  userClaim?: string;
  /** Time limit, in milliseconds, of one request to the authorization server. Default 5000. */
  timeout?: number;
  /** Largest answer accepted from the authorization server, in bytes. Default 262144 (256 KiB). */
  maxResponseBytes?: number;
  /**
   * TLS of the connections to an `https://` authorization server: a private CA, a client certificate
   * (mutual TLS). Certificates are always verified, unless `insecureSkipVerify` says otherwise.
   */
  tls?: OAuth2ResourceTlsOptions;
  /** The HTTP client of the calls to the authorization server (Gravitee's `http` options). */
  http?: OAuth2ResourceHttpOptions;
  /**
   * A forward proxy to the authorization server (Gravitee's `proxy` options). Default: none, whatever
   * `HTTP_PROXY` / `HTTPS_PROXY` say; `{ useSystemProxy: true }` follows them (and `NO_PROXY`).
   */
  proxy?: OAuth2ResourceProxyOptions;
  /**
   * Fail at once, without calling the authorization server, while it keeps failing: after
   * `failureThreshold` consecutive failures (timeouts, connection errors, 5xx answers), requests are
   * rejected with `OAUTH2_SERVER_UNAVAILABLE` for `coolDownSeconds`, then one request tests the server.
   * On by default (10 failures, 10 s); `false` turns it off.
   */
  circuitBreaker?: OAuth2ResourceCircuitBreakerOptions | false;
}

/** HTTP client settings of a resource. */
export interface OAuth2ResourceHttpOptions {
  /**
   * Most connections open to the authorization server at once; further requests wait for a free one,
   * within their `timeout`. Default 64.
   */
  maxConcurrentConnections?: number;
  /**
   * Milliseconds to open a connection: TCP, a proxy's tunnel and the TLS handshake. Default: the
   * resource's `timeout`; at most that.
   */
  connectTimeout?: number;
  /** Milliseconds a kept-alive connection may stay unused before it is closed. Default 60000. */
  idleTimeout?: number;
  /** Keep connections open between calls. Default true. */
  keepAlive?: boolean;
  /**
   * Ask for compressed answers (`Accept-Encoding: gzip, deflate, br`) and decompress them; the
   * `maxResponseBytes` bound applies after decompression. Default true. False sends
   * `Accept-Encoding: identity`.
   */
  useCompression?: boolean;
}

/**
 * A forward proxy to the authorization server, with Gravitee's names. `https://` endpoints are reached
 * through a tunnel (`CONNECT`, or SOCKS5) with the resource's TLS settings end to end; `http://` ones
 * through an HTTP proxy in absolute form. The credentials never appear in a log line or an error.
 *
 * @example
 * proxy: { host: 'proxy.internal', port: 3128, username: 'api', password: process.env.PROXY_PASSWORD }
 * proxy: { useSystemProxy: true } // HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read at start-up
 */
export interface OAuth2ResourceProxyOptions {
  /** Default true when `proxy` is set (Gravitee's default is false); `false` connects directly. */
  enabled?: boolean;
  /**
   * Take the proxy from the environment at start-up: `https_proxy`/`HTTPS_PROXY` for `https://` URLs,
   * `http_proxy`/`HTTP_PROXY` for `http://` ones (lower case first), bypassed for the hosts of
   * `no_proxy`/`NO_PROXY`. Not beside `host`, `port`, `type` or credentials. Default false.
   */
  useSystemProxy?: boolean;
  /** The proxy's host name or address. Required unless `useSystemProxy`. */
  host?: string;
  /** The proxy's port. Required unless `useSystemProxy`. */
  port?: number;
  /** User name of the proxy's Basic authentication (HTTP) or of SOCKS5's user name and password. */
  username?: string;
  /** Password of `username`. Never logged. */
  password?: string;
  /** Default `HTTP`. */
  type?: 'HTTP' | 'SOCKS5';
}

/** A resource's circuit breaker. */
export interface OAuth2ResourceCircuitBreakerOptions {
  /** Consecutive failures (timeouts, connection errors, 5xx answers) that open the circuit. Default 10. */
  failureThreshold?: number;
  /**
   * Seconds the open circuit rejects requests before it lets one through to test the server (and the
   * `Retry-After` of the `rfc` profile counts down to it). Default 10.
   */
  coolDownSeconds?: number;
}

/** A PEM text (a string, or its bytes). */
export type PemData = string | Buffer;

/**
 * TLS settings of a resource's `https://` connections. The values are PEM texts, not file paths:
 * read files yourself (`fs.readFileSync(path)`), so that a missing file fails where you can see it.
 *
 * @example
 * tls: { ca: fs.readFileSync('/etc/pki/as-ca.pem'), cert: fs.readFileSync('api.crt'), key: fs.readFileSync('api.key') }
 */
export interface OAuth2ResourceTlsOptions {
  /**
   * The CA certificates to trust for the authorization server, replacing Node's default list (add
   * `...tls.rootCertificates` to keep it). For a server whose certificate a private CA issued.
   */
  ca?: PemData | PemData[];
  /**
   * The client certificate (chain) to present: mutual TLS, e.g. RFC 8705 `tls_client_auth`
   * client authentication at the introspection endpoint. Needs `key`.
   */
  cert?: PemData;
  /** The private key of `cert`. */
  key?: PemData;
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
  /**
   * DANGER: accept any server certificate, unverified. Anyone on the network path can then pose as the
   * authorization server and declare every token active. For local development against a server with a
   * throwaway certificate only; the module logs a warning at start-up. Default false. Prefer `ca`.
   */
  insecureSkipVerify?: boolean;
}

/**
 * Gravitee's "Generic OAuth2 Authorization Server" resource: any RFC 7662 server (Keycloak, Auth0,
 * Okta, Ory Hydra, node-oidc-provider, ...). The defaults follow RFC 7662: `POST`, the token in the
 * form field `token` with `token_type_hint=access_token`, the client's credentials in a Basic header.
 */
export interface GenericOAuth2ResourceOptions extends OAuth2ResourceCommonOptions {
  type: 'generic';
  /** Base URL the endpoints are resolved against, e.g. `https://as.example.com/realms/main`. */
  authorizationServerUrl?: string;
  /**
   * The introspection endpoint: a full URL, or a path under `authorizationServerUrl`. Required unless
   * `issuer` is set.
   */
  introspectionEndpoint?: string;
  /**
   * Instead of `introspectionEndpoint`: the authorization server's issuer identifier (RFC 8414). The
   * introspection endpoint is read from its metadata (`/.well-known/oauth-authorization-server`, then
   * OpenID discovery), whose `issuer` must be this value exactly. A server that cannot be reached at
   * start-up does not stop the application: discovery is retried with backoff, and requests meanwhile
   * get `OAUTH2_SERVER_UNAVAILABLE`. Without `useClientAuthorizationHeader`, the client authentication
   * is chosen from the document's `introspection_endpoint_auth_methods_supported`.
   */
  issuer?: string;
  /** Default `POST`. */
  introspectionEndpointMethod?: OAuth2HttpMethod;
  /** The client this API authenticates as when it introspects. */
  clientId?: string;
  /** The secret of `clientId`. */
  clientSecret?: string;
  /**
   * Send the client credentials in a header (`client_secret_basic`). Default true. When false and the
   * token goes in a form body, they go as `client_id` and `client_secret` form fields (`client_secret_post`).
   */
  useClientAuthorizationHeader?: boolean;
  /** Default `Authorization`. */
  clientAuthorizationHeaderName?: string;
  /** Default `Basic`. */
  clientAuthorizationHeaderScheme?: string;
  /** Send the token as a query parameter. Default false (tokens in URLs end up in access logs). */
  tokenIsSuppliedByQueryParam?: boolean;
  /** Default `token`. */
  tokenQueryParamName?: string;
  /** Send the token in a request header. Default false. */
  tokenIsSuppliedByHttpHeader?: boolean;
  /** The header that carries the token when `tokenIsSuppliedByHttpHeader` is on. */
  tokenHeaderName?: string;
  /** Send the token in a form body. Default true unless the query or header option is on. POST only. */
  tokenIsSuppliedByFormUrlEncoded?: boolean;
  /** Default `token`. */
  tokenFormUrlEncodedName?: string;
  /** The `token_type_hint` sent with a form or query token. Default `access_token`; `false` sends none. */
  tokenTypeHint?: string | false;
  /** Separator of the `scope` claim when it is a string. Default one space. */
  scopeSeparator?: string;
  /** The userinfo endpoint: a full URL, or a path under `authorizationServerUrl`. */
  userInfoEndpoint?: string;
  /** Default `GET`. */
  userInfoEndpointMethod?: OAuth2HttpMethod;
  /**
   * `'jwt'`: ask for signed introspection answers (RFC 9701, `Accept: application/token-introspection+jwt`)
   * and accept nothing else: the answer must be a JWS from the issuer's keys, with `iss` the `issuer`, `aud`
   * the `clientId` and a fresh `iat`, else `OAUTH2_INVALID_SERVER_RESPONSE`. Needs `issuer` and `clientId`.
   * Default `'json'` (RFC 7662's plain answer). See docs/signed-introspection.md.
   */
  introspectionResponseFormat?: OAuth2IntrospectionResponseFormat;
  /**
   * The JWK set that signs the introspection answers when `introspectionResponseFormat` is `'jwt'`.
   * Default: the `jwks_uri` of the issuer's metadata. Fetched through this resource's HTTP client (its
   * `tls`, `proxy` and timeouts), kept, and fetched again at most once a minute when an answer names a key
   * it does not hold.
   */
  jwksUri?: string;
}

/** How a generic resource's introspection answers come: RFC 7662 JSON, or RFC 9701 signed JWTs. */
export type OAuth2IntrospectionResponseFormat = 'json' | 'jwt';

/** The versions of Gravitee Access Management, which differ in endpoint paths and in the `active` rule. */
export type GraviteeAmVersion = 'V1_X' | 'V2_X' | 'V3_X';

/** Gravitee's "Gravitee.io AM Authorization Server" resource. */
export interface GraviteeAmResourceOptions extends OAuth2ResourceCommonOptions {
  type: 'gravitee-am';
  /** The AM gateway's URL, e.g. `https://am.example.com` (a path, if any, is kept). */
  serverURL: string;
  /** The security domain's path (HRID). */
  securityDomain: string;
  clientId: string;
  clientSecret: string;
  /** Default `V3_X`. */
  version?: GraviteeAmVersion;
}

/** One authorization-server resource, by its `type`. */
export type OAuth2ResourceOptions = GenericOAuth2ResourceOptions | GraviteeAmResourceOptions;
