import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { OAuth2ConfigurationError } from './errors/oauth2-configuration.error';
import { hasOAuth2Guard, isHttpRoute, isOAuth2GuardGlobal } from './guards/guard-bindings';
import type { OAuth2PolicyOptions } from './interfaces/policy-options.interface';
import { POLICY_METADATA, SKIP_METADATA } from './oauth2.constants';
import type { OptionProblem } from './options/option-problem';
import { namedReferenceProblems } from './options/policy-options.schema';
import type { ResolvedOAuth2ModuleOptions } from './options/resolved-options';
import { InjectOAuth2Options } from './decorators/inject-oauth2-options.decorator';

type ControllerClass = new (...args: never[]) => object;

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
    @InjectOAuth2Options() private readonly options: ResolvedOAuth2ModuleOptions,
  ) {}

  onModuleInit(): void {
    const controllers = this.discovery
      .getControllers()
      .map((wrapper) => wrapper.metatype as ControllerClass | null | undefined)
      .filter((controller): controller is ControllerClass => typeof controller === 'function');
    // Resolvers and gateways are providers: their @OAuth2Policy() names are checked too.
    const problems = [...controllers, ...this.providerClasses()].flatMap((target) => this.policyNameProblems(target));
    if (this.options.policy.oauthResource === undefined) {
      const global = isOAuth2GuardGlobal(this.discovery);
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
    const controllerGuarded = global || hasOAuth2Guard(this.reflector, controller);
    return this.handlers(controller)
      .filter(([, handler]) => isHttpRoute(this.reflector, handler))
      .filter(([, handler]) => controllerGuarded || hasOAuth2Guard(this.reflector, handler))
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
    return hasOAuth2Guard(this.reflector, handler)
      ? '@UseGuards(OAuth2Guard) on the handler'
      : '@UseGuards(OAuth2Guard) on its controller';
  }

  private isCovered(target: object): boolean {
    return (
      this.policyOf(target)?.oauthResource !== undefined ||
      this.reflector.get<boolean | undefined>(SKIP_METADATA, target as never) === true
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
