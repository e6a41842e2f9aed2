import type { INestApplicationContext } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { hasOAuth2Guard, isHttpRoute, isOAuth2GuardGlobal } from '../guards/guard-bindings';
import { routePolicy } from '../guards/route-policy';
import type { ResolvedOAuth2Policy } from '../interfaces/policy-options.interface';
import { OAUTH2_RESOLVED_OPTIONS, OPTIONAL_METADATA, SKIP_METADATA } from '../oauth2.constants';
import { DEFAULT_POLICY, type ResolvedOAuth2ModuleOptions } from '../options/resolved-options';

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
  const global = isOAuth2GuardGlobal(discovery);
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
        scopes: routeScopes(routePolicy(reflector, modulePolicy, controller, handler)),
        optional: reflector.getAllAndOverride<boolean>(OPTIONAL_METADATA, [handler, controller]) === true,
      });
    }
  }
  return routes;
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

/** The scopes a route's policy has the guard check. */
function routeScopes(policy: ResolvedOAuth2Policy): readonly string[] {
  return policy.checkRequiredScopes ? policy.requiredScopes : [];
}
