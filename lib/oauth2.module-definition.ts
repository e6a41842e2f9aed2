import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { OAuth2GlobalGuard } from './guards/oauth2-global.guard';
import type { OAuth2ModuleExtras, OAuth2ModuleOptions } from './interfaces/module-options.interface';

/**
 * The module's `forRoot()` / `forRootAsync()`, built by Nest's `ConfigurableModuleBuilder`. `global`
 * sits beside the options (and beside `useFactory` in `forRootAsync`): it binds the guard to every
 * route. The module itself is always global, so `@UseGuards(OAuth2Guard)` works in any module.
 *
 * `OAUTH2_MODULE_OPTIONS` is the token of the options as given, before validation: override it in a
 * test (`overrideProvider(OAUTH2_MODULE_OPTIONS).useValue(...)`). To read the options, inject the
 * validated ones with `@InjectOAuth2Options()`.
 */
export const {
  ConfigurableModuleClass: OAuth2ConfigurableModule,
  MODULE_OPTIONS_TOKEN: OAUTH2_MODULE_OPTIONS,
  OPTIONS_TYPE: OAUTH2_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: OAUTH2_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OAuth2ModuleOptions>({ moduleName: 'OAuth2' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createOAuth2Options')
  .setExtras<OAuth2ModuleExtras>({ global: false }, (definition, extras) => {
    const globalGuard: Provider[] = extras.global ? [{ provide: APP_GUARD, useClass: OAuth2GlobalGuard }] : [];
    return { ...definition, global: true, providers: [...(definition.providers ?? []), ...globalGuard] };
  })
  .build();
