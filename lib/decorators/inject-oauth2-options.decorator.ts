import { Inject } from '@nestjs/common';
import { OAUTH2_RESOLVED_OPTIONS } from '../oauth2.constants';

/**
 * Injects the module's options as every provider of the module reads them: validated, with their
 * defaults applied (`ResolvedOAuth2ModuleOptions`), for `forRoot()` and `forRootAsync()` alike.
 * Read-only: they are the module's, shared.
 *
 * To replace the options in a test, override the raw ones instead, `OAUTH2_MODULE_OPTIONS`, before
 * they are validated (`overrideProvider(OAUTH2_MODULE_OPTIONS).useValue(...)`).
 *
 * @example
 * @Injectable()
 * export class RealmReporter {
 *   constructor(@InjectOAuth2Options() private readonly options: ResolvedOAuth2ModuleOptions) {}
 *
 *   realm(): string {
 *     return this.options.realm;
 *   }
 * }
 */
export const InjectOAuth2Options = (): PropertyDecorator & ParameterDecorator => Inject(OAUTH2_RESOLVED_OPTIONS);
