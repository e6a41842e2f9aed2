import { APP_GUARD, type DiscoveryService, type Reflector } from '@nestjs/core';
import { OAuth2Guard } from './oauth2.guard';

/*
 * Nest's own metadata keys, read from @nestjs/common/constants (GUARDS_METADATA, PATH_METADATA,
 * METHOD_METADATA). They are the same strings in Nest 11 and 12, but not exported from the package's
 * public entry in every major, and a deep import would break across majors: test/module/
 * uncovered-routes.e2e-spec.ts checks them on both majors, so that a rename fails a test.
 */
/** Where `@UseGuards()` keeps a controller's or handler's guards. */
const NEST_GUARDS_METADATA = '__guards__';
/** Set on a handler by `@Get()`, `@Post()`, ... (and on a controller by `@Controller()`). */
const NEST_PATH_METADATA = 'path';
/** Set on a handler by `@Get()`, `@Post()`, ... only: what tells an HTTP route from a helper method. */
export const NEST_METHOD_METADATA = 'method';

/** Whether a value is `OAuth2Guard` or a subclass of it. */
export function isOAuth2GuardClass(value: unknown): boolean {
  return value === OAuth2Guard || (typeof value === 'function' && value.prototype instanceof OAuth2Guard);
}

/** Whether `@UseGuards()` on a controller or handler lists `OAuth2Guard`, a subclass, or an instance of either. */
export function hasOAuth2Guard(reflector: Reflector, target: object): boolean {
  const guards = reflector.get<unknown[] | undefined>(NEST_GUARDS_METADATA, target as never) ?? [];
  return guards.some((guard) => guard instanceof OAuth2Guard || isOAuth2GuardClass(guard));
}

/** Whether a controller's method is an HTTP route (`@Get()`, `@Post()`, ...), not a helper or another transport's handler. */
export function isHttpRoute(reflector: Reflector, handler: object): boolean {
  return (
    reflector.get<unknown>(NEST_PATH_METADATA, handler as never) !== undefined &&
    reflector.get<unknown>(NEST_METHOD_METADATA, handler as never) !== undefined
  );
}

/**
 * Whether an `OAuth2Guard` (or a subclass) is an `APP_GUARD` provider: `global: true`, or the
 * application's own binding. Nest registers each `APP_GUARD` under a token that starts with `APP_GUARD`.
 */
export function isOAuth2GuardGlobal(discovery: DiscoveryService): boolean {
  return discovery
    .getProviders()
    .some(
      (wrapper) =>
        typeof wrapper.token === 'string' &&
        wrapper.token.startsWith(APP_GUARD) &&
        (wrapper.instance instanceof OAuth2Guard || isOAuth2GuardClass(wrapper.metatype)),
    );
}
