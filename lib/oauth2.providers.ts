import { type Provider } from '@nestjs/common';
import { OAUTH2_MODULE_OPTIONS } from './oauth2.module-definition';
import { OAUTH2_RESOLVED_OPTIONS } from './oauth2.constants';
import { validateModuleOptions } from './options/validate-options';

/**
 * The validated options, defaults applied. Validation runs here, once, for `forRoot()` and
 * `forRootAsync()` alike, so a bad configuration stops the application's start.
 */
export const resolvedOptionsProvider: Provider = {
  provide: OAUTH2_RESOLVED_OPTIONS,
  useFactory: (options: unknown) => validateModuleOptions(options),
  inject: [OAUTH2_MODULE_OPTIONS],
};
