import type { ResolvedOAuth2CacheResourceOptions } from '../interfaces/cache-options.interface';
import type { OAuth2DecisionHook } from '../interfaces/decision.interface';
import type { OAuth2ErrorProfile } from '../interfaces/module-options.interface';
import type { OAuth2PolicyOptions, ResolvedOAuth2Policy } from '../interfaces/policy-options.interface';
import type { OAuth2ProtectedResourceOptions } from '../interfaces/protected-resource-options.interface';
import type { OAuth2ResourceOptions } from '../interfaces/resource-options.interface';
import type { OAuth2ResponseTemplates } from '../interfaces/response-template.interface';
import type { ResolvedOAuth2TransportOptions } from '../interfaces/transport-options.interface';
import { keepPlainScopes } from '../guards/scopes';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from '../oauth2.constants';

/*
 * What the module's providers read: the options after validation, with their defaults. Nothing here
 * validates, so that readers of the options (the guard, the filter, the registries) never import the
 * checks.
 */

/** The module's options after validation, with the defaults applied. */
export interface ResolvedOAuth2ModuleOptions {
  readonly resources: readonly OAuth2ResourceOptions[];
  readonly caches: readonly ResolvedOAuth2CacheResourceOptions[];
  readonly policy: ResolvedOAuth2Policy;
  readonly responseTemplates: OAuth2ResponseTemplates;
  readonly realm: string;
  readonly errorProfile: OAuth2ErrorProfile;
  readonly retryAfterSeconds: number;
  readonly transports: ResolvedOAuth2TransportOptions;
  /** RFC 9728 metadata, when `protectedResource` is set. */
  readonly protectedResource?: ResolvedProtectedResource;
  /** `publicUrl`, normalised, without a trailing slash. */
  readonly publicUrl?: string;
  /** `trustedClientCertificateHeader` in lower case, when set. */
  readonly trustedClientCertificateHeader?: string;
  /** The audit hook, when set. */
  readonly onDecision?: OAuth2DecisionHook;
}

/** `protectedResource` after validation: the options, and where its document is served. */
export interface ResolvedProtectedResource {
  readonly options: Readonly<OAuth2ProtectedResourceOptions>;
  /** The absolute URL of the document (RFC 9728 §3.1), sent in every challenge's `resource_metadata`. */
  readonly metadataUrl: string;
  /** The paths, from the origin's root, where the document is served: the bare well-known path and the resource's. */
  readonly metadataPaths: readonly string[];
}

/** Policy defaults: the policy documentation's, plus this module's own options. */
export const DEFAULT_POLICY: ResolvedOAuth2Policy = Object.freeze({
  extractPayload: false,
  checkRequiredScopes: false,
  requiredScopes: Object.freeze([]) as readonly string[],
  modeStrict: true,
  propagateAuthHeader: true,
  allowAccessTokenQueryParam: false,
  clockToleranceSeconds: DEFAULT_CLOCK_TOLERANCE_SECONDS,
  audiences: false,
  issuers: false,
  requireCertificateBinding: false,
});

/**
 * A policy on top of another: set fields of `override` win. (Not to be confused with
 * `OAuth2Guard.resolvePolicy(context)`, which finds a route's policy and calls this for each level.)
 */
export function mergePolicy(base: ResolvedOAuth2Policy, override: OAuth2PolicyOptions): ResolvedOAuth2Policy {
  const merged: { -readonly [K in keyof ResolvedOAuth2Policy]: ResolvedOAuth2Policy[K] } = { ...base };
  for (const [name, value] of Object.entries(override)) {
    if (value !== undefined) {
      // A copy of a list, so that the caller's array changed later does not change the policy.
      (merged as Record<string, unknown>)[name] = Array.isArray(value) ? Object.freeze([...value]) : value;
    }
  }
  return Object.freeze(keepPlainScopes(merged, merged.requiredScopes));
}
