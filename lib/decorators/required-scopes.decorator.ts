import { SetMetadata } from '@nestjs/common';
import { REQUIRED_SCOPES_METADATA } from '../oauth2.constants';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { policyProblems } from '../options/validate-options';

/**
 * The scopes a controller's or handler's routes require. Turns the scope check on there; whether
 * every scope or any one is needed follows the policy's `modeStrict` (default: every one).
 *
 * @example
 * @Post() @RequiredScopes('orders:write')
 * create() { ... }
 */
export function RequiredScopes(...scopes: string[]): ClassDecorator & MethodDecorator {
  const problems = policyProblems({ requiredScopes: scopes }, '@RequiredScopes()');
  if (problems.length > 0) {
    throw OAuth2ConfigurationError.fromProblems(problems);
  }
  return SetMetadata(REQUIRED_SCOPES_METADATA, Object.freeze([...scopes]));
}
