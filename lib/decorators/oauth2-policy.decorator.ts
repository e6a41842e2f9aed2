import { SetMetadata } from '@nestjs/common';
import { POLICY_METADATA } from '../oauth2.constants';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import type { OAuth2PolicyOptions } from '../interfaces/policy-options.interface';
import { policyProblems } from '../options/policy-options.schema';

/**
 * Overrides policy options for a controller or a handler (the handler's win over the controller's,
 * which win over the module's). Options are checked when the decorator is applied, and resource and
 * cache names when the application starts.
 *
 * @example
 * @OAuth2Policy({ oauthResource: 'partners-as', modeStrict: false, extractPayload: true })
 * @Controller('partners')
 * export class PartnersController { ... }
 */
export function OAuth2Policy(policy: OAuth2PolicyOptions): ClassDecorator & MethodDecorator {
  const problems = policyProblems(policy, '@OAuth2Policy()');
  if (problems.length > 0) {
    throw OAuth2ConfigurationError.fromProblems(problems);
  }
  return SetMetadata(POLICY_METADATA, Object.freeze({ ...policy }));
}
