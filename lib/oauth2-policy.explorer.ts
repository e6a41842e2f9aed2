import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_GUARD, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { OAuth2ConfigurationError } from './errors/oauth2-configuration.error';
import { OAuth2Guard } from './guards/oauth2.guard';
import type { OAuth2PolicyOptions } from './interfaces/policy-options.interface';
import { OAUTH2_RESOLVED_OPTIONS, POLICY_METADATA, SKIP_METADATA } from './oauth2.constants';
import {
  type OptionProblem,
  type ResolvedOAuth2ModuleOptions,
  namedReferenceProblems,
} from './options/validate-options';

type ControllerClass = new (...args: never[]) => object;

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
const NEST_METHOD_METADATA = 'method';

/**
 * Checks, when the application starts, that every `@OAuth2Policy()` names registered resources and
 * caches, so that a typo fails the start instead of rejecting requests with `OAUTH2_MISSING_SERVER`;
 * and, when the module's policy has no `oauthResource`, that no HTTP route the guard covers (every
 * route when `OAuth2Guard` is bound globally, else the routes under `@UseGuards(OAuth2Guard)` on the
 * handler or its controller) is left without one.
 */
@Injectable()
export class OAuth2PolicyExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(OAUTH2_RESOLVED_OPTIONS) private readonly options: ResolvedOAuth2ModuleOptions,
  ) {}

  onModuleInit(): void {
    const controllers = this.discovery
      .getControllers()
      .map((wrapper) => wrapper.metatype as ControllerClass | null | undefined)
      .filter((controller): controller is ControllerClass => typeof controller === 'function');
    // Resolvers and gateways are providers: their @OAuth2Policy() names are checked too.
    const problems = [...controllers, ...this.providerClasses()].flatMap((target) => this.policyNameProblems(target));
    if (this.options.policy.oauthResource === undefined) {
      const global = this.guardIsGlobal();
      problems.push(...controllers.flatMap((controller) => this.uncoveredRouteProblems(controller, global)));
    }
    if (problems.length > 0) {
      throw OAuth2ConfigurationError.fromProblems(problems);
    }
  }

  /** The classes of the application's class providers (not values, factories or aliases). */
  private providerClasses(): ControllerClass[] {
    const classes = new Set<ControllerClass>();
    for (const wrapper of this.discovery.getProviders()) {
      const metatype = wrapper.metatype as ControllerClass | null | undefined;
      const isClassProvider =
        typeof metatype === 'function' &&
        typeof metatype.prototype === 'object' &&
        !wrapper.inject &&
        (wrapper as { isNotMetatype?: boolean }).isNotMetatype !== true;
      if (isClassProvider) {
        classes.add(metatype);
      }
    }
    return [...classes];
  }

  private policyNameProblems(controller: ControllerClass): OptionProblem[] {
    const targets: Array<[string, object]> = [[`@OAuth2Policy() of ${controller.name}`, controller]];
    for (const [method, handler] of this.handlers(controller)) {
      targets.push([`@OAuth2Policy() of ${controller.name}.${method}`, handler]);
    }
    return targets.flatMap(([field, target]) => {
      const policy = this.policyOf(target);
      return policy ? namedReferenceProblems(policy, field, this.options.resources, this.options.caches) : [];
    });
  }

  /**
   * The HTTP routes of a controller that the guard covers and no `oauthResource` reaches (nor
   * `@SkipOAuth2()`): each of them would answer `OAUTH2_MISSING_SERVER` to every request. Methods
   * without `@Get()`, `@Post()`, ... are helpers, or handlers of another transport: not judged here.
   */
  private uncoveredRouteProblems(controller: ControllerClass, global: boolean): OptionProblem[] {
    if (this.isCovered(controller)) {
      return [];
    }
    const controllerGuarded = global || this.hasOAuth2Guard(controller);
    return this.handlers(controller)
      .filter(([, handler]) => this.isHttpRoute(handler))
      .filter(([, handler]) => controllerGuarded || this.hasOAuth2Guard(handler))
      .filter(([, handler]) => !this.isCovered(handler))
      .map(([method, handler]) => ({
        field: `${controller.name}.${method}`,
        problem:
          `is guarded by ${this.guardedBy(global, controller, handler)}, but no oauthResource applies to it (none in the module's policy, none in @OAuth2Policy() of the handler or of its controller). ` +
          "Set policy.oauthResource, add @OAuth2Policy({ oauthResource: '...' }) to the controller or the handler, or mark a public route @SkipOAuth2().",
      }));
  }

  private guardedBy(global: boolean, controller: ControllerClass, handler: object): string {
    if (global) {
      return 'the global OAuth2Guard';
    }
    return this.hasOAuth2Guard(handler)
      ? '@UseGuards(OAuth2Guard) on the handler'
      : '@UseGuards(OAuth2Guard) on its controller';
  }

  private isHttpRoute(handler: object): boolean {
    return (
      this.reflector.get<unknown>(NEST_PATH_METADATA, handler as never) !== undefined &&
      this.reflector.get<unknown>(NEST_METHOD_METADATA, handler as never) !== undefined
    );
  }

  /** Whether `@UseGuards()` on the target lists `OAuth2Guard`, a subclass, or an instance of either. */
  private hasOAuth2Guard(target: object): boolean {
    const guards = this.reflector.get<unknown[] | undefined>(NEST_GUARDS_METADATA, target as never) ?? [];
    return guards.some((guard) => guard instanceof OAuth2Guard || isOAuth2GuardClass(guard));
  }

  private isCovered(target: object): boolean {
    return (
      this.policyOf(target)?.oauthResource !== undefined ||
      this.reflector.get<boolean | undefined>(SKIP_METADATA, target as never) === true
    );
  }

  /**
   * Whether an `OAuth2Guard` (or a subclass) is an `APP_GUARD` provider: `global: true`, or the
   * application's own binding. Nest registers each `APP_GUARD` under a token that starts with `APP_GUARD`.
   */
  private guardIsGlobal(): boolean {
    return this.discovery
      .getProviders()
      .some(
        (wrapper) =>
          typeof wrapper.token === 'string' &&
          wrapper.token.startsWith(APP_GUARD) &&
          (wrapper.instance instanceof OAuth2Guard || isOAuth2GuardClass(wrapper.metatype)),
      );
  }

  private handlers(controller: ControllerClass): Array<[string, object]> {
    const prototype = controller.prototype as Record<string, unknown>;
    return this.scanner
      .getAllMethodNames(prototype)
      .map((method) => [method, prototype[method]] as [string, unknown])
      .filter((entry): entry is [string, object] => typeof entry[1] === 'function');
  }

  private policyOf(target: object): OAuth2PolicyOptions | undefined {
    return this.reflector.get<OAuth2PolicyOptions | undefined>(POLICY_METADATA, target as never);
  }
}

function isOAuth2GuardClass(value: unknown): boolean {
  return value === OAuth2Guard || (typeof value === 'function' && value.prototype instanceof OAuth2Guard);
}
