import { SetMetadata } from '@nestjs/common';
import { REQUIRED_SCOPES_METADATA } from '../oauth2.constants';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { policyProblems } from '../options/policy-options.schema';

/**
 * The scopes a controller's or handler's routes require. Turns the scope check on there; whether
 * every scope or any one is needed follows the policy's `modeStrict` (default: every one). At least
 * one scope is required: `@RequiredScopes()` with none throws when applied.
 *
 * @example
 * @Post() @RequiredScopes('orders:write')
 * create() { ... }
 */
export function RequiredScopes(...scopes: string[]): ClassDecorator & MethodDecorator {
  if (scopes.length === 0) {
    // With no scope it would turn the check on with nothing to check: every token would pass.
    throw new OAuth2ConfigurationError(
      '@RequiredScopes()',
      "has no scope: name at least one, e.g. @RequiredScopes('orders:read'), or remove the decorator.",
    );
  }
  const problems = policyProblems({ requiredScopes: scopes }, '@RequiredScopes()');
  if (problems.length > 0) {
    throw OAuth2ConfigurationError.fromProblems(problems);
  }
  return SetMetadata(REQUIRED_SCOPES_METADATA, Object.freeze([...scopes]));
}
