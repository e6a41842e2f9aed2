import type { OAuthFlowsObject } from '@nestjs/swagger';

/**
 * What `applyOAuth2OpenApi()` declares. With the default `type: 'oauth2'`, give the token endpoint
 * (`tokenUrl`, a client-credentials flow) or the `flows` yourself: an OAuth2 scheme without a flow is
 * not valid OpenAPI.
 *
 * @example
 * { tokenUrl: 'https://auth.example.com/oauth/token', scopeDescriptions: { 'orders:read': 'Read orders' } }
 */
export interface OAuth2OpenApiOptions {
  /** The name of the scheme in `components.securitySchemes`, which each operation's `security` names. Default `oauth2`. */
  readonly schemeName?: string;
  /**
   * `oauth2` (default): an OAuth2 scheme whose requirements list each operation's scopes. `bearer`: an
   * HTTP bearer scheme; OpenAPI 3.0 lets only OAuth2 and OpenID Connect requirements list scopes, so
   * its requirements list none.
   */
  readonly type?: 'oauth2' | 'bearer';
  /** With `type: 'oauth2'` and no `flows`: the token endpoint of a `clientCredentials` flow. */
  readonly tokenUrl?: string;
  /**
   * With `type: 'oauth2'`: the flows as they go into the document. The scopes that the routes require
   * are added to each flow's `scopes`, with a description from `scopeDescriptions` (else the scope).
   */
  readonly flows?: OAuthFlowsObject;
  /** A description of each scope, by scope, for the flows' `scopes` maps. */
  readonly scopeDescriptions?: Readonly<Record<string, string>>;
  /** The scheme's description. */
  readonly description?: string;
  /** The name of the error body's schema in `components.schemas`. Default `OAuth2Error`. */
  readonly errorSchemaName?: string;
}
