import type { Reflector } from '@nestjs/core';
import type { OAuth2PolicyOptions, ResolvedOAuth2Policy } from '../interfaces/policy-options.interface';
import { POLICY_METADATA, REQUIRED_SCOPES_METADATA } from '../oauth2.constants';
import { mergePolicy } from '../options/resolved-options';

/**
 * A route's policy: the module's, then the controller's metadata, then the handler's (handler wins).
 * `@RequiredScopes()` sets `requiredScopes` and turns `checkRequiredScopes` on. What the guard applies,
 * and what the OpenAPI document shows.
 */
export function routePolicy(
  reflector: Reflector,
  modulePolicy: ResolvedOAuth2Policy,
  controller: object,
  handler: object,
): ResolvedOAuth2Policy {
  let policy = modulePolicy;
  for (const target of [controller, handler]) {
    policy = mergePolicy(
      policy,
      reflector.get<OAuth2PolicyOptions | undefined>(POLICY_METADATA, target as never) ?? {},
    );
    const scopes = reflector.get<string[] | undefined>(REQUIRED_SCOPES_METADATA, target as never);
    if (scopes) {
      policy = mergePolicy(policy, { requiredScopes: scopes, checkRequiredScopes: true });
    }
  }
  return policy;
}
