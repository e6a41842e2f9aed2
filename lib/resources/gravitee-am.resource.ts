import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from '../oauth2.constants';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import type { GraviteeAmResourceOptions, GraviteeAmVersion } from '../interfaces/resource-options.interface';
import { readActive } from './active-rule';
import { AuthorizationServerClient, resolveConnectionLimits } from './authorization-server.client';
import { OAuth2Resource } from './oauth2-resource';
import { type OutgoingRequest, basicCredentials } from './outgoing-request';

/** Endpoint paths under `{serverURL}/{securityDomain}`, by AM version. */
const PATHS: Readonly<Record<GraviteeAmVersion, { introspection: string; userInfo: string }>> = {
  V1_X: { introspection: '/oauth/check_token', userInfo: '/userinfo' },
  V2_X: { introspection: '/oauth/introspect', userInfo: '/oidc/userinfo' },
  V3_X: { introspection: '/oauth/introspect', userInfo: '/oidc/userinfo' },
};

/**
 * Gravitee's "Gravitee.io AM Authorization Server": introspects at a Gravitee Access Management
 * security domain. V1_X's `check_token` has no `active` member, so any valid answer is active;
 * V2_X and V3_X treat a missing `active` as inactive.
 */
export class GraviteeAmResource extends OAuth2Resource {
  readonly name: string;
  readonly userClaim: string;
  readonly scopeSeparator = ' ';
  /** The AM version the endpoints and the `active` rule follow. */
  readonly version: GraviteeAmVersion;
  private readonly introspectionUrl: string;
  private readonly userInfoUrl: string;
  private readonly authorization: string;

  constructor(options: GraviteeAmResourceOptions) {
    const limits = {
      timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      tls: options.tls,
      ...resolveConnectionLimits(options),
    };
    super(new AuthorizationServerClient(options.name, limits));
    this.name = options.name;
    this.userClaim = options.userClaim ?? 'sub';
    this.version = options.version ?? 'V3_X';
    const domainUrl = `${options.serverURL.replace(/\/+$/, '')}/${encodeURIComponent(options.securityDomain)}`;
    this.introspectionUrl = domainUrl + PATHS[this.version].introspection;
    this.userInfoUrl = domainUrl + PATHS[this.version].userInfo;
    this.authorization = `Basic ${basicCredentials(options.clientId, options.clientSecret)}`;
  }

  buildIntrospectionRequest(token: string): OutgoingRequest {
    return {
      method: 'POST',
      url: this.introspectionUrl,
      headers: {
        Accept: 'application/json',
        Authorization: this.authorization,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }).toString(),
    };
  }

  buildUserInfoRequest(token: string): OutgoingRequest {
    return {
      method: 'GET',
      url: this.userInfoUrl,
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
    };
  }

  /** AM 1.x's `check_token` answers an unknown or expired token with 400 `{"error":"invalid_token"}`. */
  protected override isRefusalOfToken(status: number, body: string): boolean {
    if (this.version !== 'V1_X' || status !== 400) {
      return false;
    }
    try {
      return (JSON.parse(body) as { error?: unknown })?.error === 'invalid_token';
    } catch {
      return false;
    }
  }

  /**
   * V1_X's `check_token` has no `active` member: an answer without one is active. An `active` that is
   * there is read nevertheless, so that an explicit `false` is never taken for active. V2_X and V3_X:
   * a missing or unreadable `active` is inactive.
   */
  isActive(payload: IntrospectionPayload): boolean | undefined {
    if (this.version === 'V1_X' && payload.active === undefined) {
      return true;
    }
    return readActive(payload.active) ?? false;
  }
}
