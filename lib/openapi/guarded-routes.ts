import type { INestApplicationContext } from '@nestjs/common';
import { APP_GUARD, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { OAuth2Guard } from '../guards/oauth2.guard';
import type { OAuth2PolicyOptions } from '../interfaces/policy-options.interface';
import {
  OAUTH2_RESOLVED_OPTIONS,
  OPTIONAL_METADATA,
  POLICY_METADATA,
  REQUIRED_SCOPES_METADATA,
  SKIP_METADATA,
} from '../oauth2.constants';
import { DEFAULT_POLICY, type ResolvedOAuth2ModuleOptions, resolvePolicy } from '../options/validate-options';

/** An HTTP route that the guard checks, as the OpenAPI document shows it. */
export interface GuardedRoute {
  /** The handler: the function that Nest's and Swagger's metadata sit on. */
  readonly handler: object;
  /** The scopes the guard requires, merged module → controller → handler as the guard merges them. */
  readonly scopes: readonly string[];
  /** `@OptionalOAuth2()`: a call without a token is let through. */
  readonly optional: boolean;
}

type ControllerClass = new (...args: never[]) => object;

/*
 * Nest's own metadata keys, the same strings in Nest 11 and 12 (see oauth2-policy.explorer.ts, and
 * test/module/uncovered-routes.e2e-spec.ts which checks them on both majors).
 */
const NEST_GUARDS_METADATA = '__guards__';
const NEST_PATH_METADATA = 'path';
const NEST_METHOD_METADATA = 'method';

/**
 * The HTTP routes of the application that `OAuth2Guard` (or a subclass) checks: every route when the
 * guard is global, else those under `@UseGuards(OAuth2Guard)` on the handler or its controller; never
 * those under `@SkipOAuth2()`.
 *
 * @throws OAuth2ConfigurationError when the application does not import `OAuth2Module`.
 */
export function findGuardedRoutes(app: INestApplicationContext): GuardedRoute[] {
  const discovery = resolveOptional(app, DiscoveryService);
  const reflector = resolveOptional(app, Reflector);
  if (!discovery || !reflector) {
    throw new OAuth2ConfigurationError(
      'applyOAuth2OpenApi()',
      'found no OAuth2Module in the application: import OAuth2Module.forRoot() (or forRootAsync()) before creating the document.',
    );
  }
  const modulePolicy =
    resolveOptional<ResolvedOAuth2ModuleOptions>(app, OAUTH2_RESOLVED_OPTIONS)?.policy ?? DEFAULT_POLICY;
  const global = discovery
    .getProviders()
    .some(
      (wrapper) =>
        typeof wrapper.token === 'string' &&
        wrapper.token.startsWith(APP_GUARD) &&
        (wrapper.instance instanceof OAuth2Guard || isOAuth2GuardClass(wrapper.metatype)),
    );
  const scanner = new MetadataScanner();
  const routes: GuardedRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as ControllerClass | null | undefined;
    if (typeof controller !== 'function') {
      continue;
    }
    const controllerGuarded = global || hasOAuth2Guard(reflector, controller);
    const prototype = controller.prototype as Record<string, unknown>;
    for (const method of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[method];
      if (typeof handler !== 'function' || !isHttpRoute(reflector, handler)) {
        continue;
      }
      const guarded = controllerGuarded || hasOAuth2Guard(reflector, handler);
      if (!guarded || reflector.getAllAndOverride<boolean>(SKIP_METADATA, [handler, controller]) === true) {
        continue;
      }
      routes.push({
        handler,
        scopes: routeScopes(reflector, modulePolicy, controller, handler),
        optional: reflector.getAllAndOverride<boolean>(OPTIONAL_METADATA, [handler, controller]) === true,
      });
    }
  }
  return routes;
}

/** The guard's own merge (`OAuth2Guard.resolvePolicy`): the handler's scopes replace the controller's. */
function routeScopes(
  reflector: Reflector,
  modulePolicy: ResolvedOAuth2ModuleOptions['policy'],
  controller: ControllerClass,
  handler: object,
): readonly string[] {
  let policy = modulePolicy;
  for (const target of [controller, handler]) {
    policy = resolvePolicy(
      policy,
      reflector.get<OAuth2PolicyOptions | undefined>(POLICY_METADATA, target as never) ?? {},
    );
    const scopes = reflector.get<string[] | undefined>(REQUIRED_SCOPES_METADATA, target as never);
    if (scopes) {
      policy = resolvePolicy(policy, { requiredScopes: scopes, checkRequiredScopes: true });
    }
  }
  return policy.checkRequiredScopes ? policy.requiredScopes : [];
}

function resolveOptional<T>(
  app: INestApplicationContext,
  token: string | symbol | (abstract new (...args: never[]) => T),
): T | undefined {
  try {
    return app.get<T>(token as never, { strict: false });
  } catch {
    return undefined;
  }
}

function isHttpRoute(reflector: Reflector, handler: object): boolean {
  return (
    reflector.get<unknown>(NEST_PATH_METADATA, handler as never) !== undefined &&
    reflector.get<unknown>(NEST_METHOD_METADATA, handler as never) !== undefined
  );
}

function hasOAuth2Guard(reflector: Reflector, target: object): boolean {
  const guards = reflector.get<unknown[] | undefined>(NEST_GUARDS_METADATA, target as never) ?? [];
  return guards.some((guard) => guard instanceof OAuth2Guard || isOAuth2GuardClass(guard));
}

function isOAuth2GuardClass(value: unknown): boolean {
  return value === OAuth2Guard || (typeof value === 'function' && value.prototype instanceof OAuth2Guard);
}
