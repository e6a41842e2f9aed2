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

/**
 * Checks, when the application starts, that every `@OAuth2Policy()` names registered resources and
 * caches, so that a typo fails the start instead of rejecting requests with `OAUTH2_MISSING_SERVER`;
 * and, when `OAuth2Guard` is bound globally and the module's policy has no `oauthResource`, that no
 * controller is left without one.
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
    const problems = controllers.flatMap((controller) => this.policyNameProblems(controller));
    if (this.options.policy.oauthResource === undefined && this.guardIsGlobal()) {
      problems.push(...controllers.flatMap((controller) => this.uncoveredControllerProblems(controller)));
    }
    if (problems.length > 0) {
      throw OAuth2ConfigurationError.fromProblems(problems);
    }
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
   * A controller none of whose methods, nor itself, names an `oauthResource` or is skipped: under a global
   * guard its routes would all answer `OAUTH2_MISSING_SERVER`. Nest has no public way to tell a route from
   * a helper method, so a controller where some method is covered is not judged (it may be a helper that
   * is left uncovered).
   */
  private uncoveredControllerProblems(controller: ControllerClass): OptionProblem[] {
    if (this.isCovered(controller)) {
      return [];
    }
    const handlers = this.handlers(controller);
    if (handlers.some(([, handler]) => this.isCovered(handler))) {
      return [];
    }
    return handlers.map(([method]) => ({
      field: `${controller.name}.${method}`,
      problem:
        "is guarded by the global OAuth2Guard, but no oauthResource applies to it (none in the module's policy, none in @OAuth2Policy() of the handler or of its controller). " +
        "Set policy.oauthResource, add @OAuth2Policy({ oauthResource: '...' }) to the controller or the handler, or mark a public route @SkipOAuth2().",
    }));
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
          (wrapper.instance instanceof OAuth2Guard ||
            wrapper.metatype === OAuth2Guard ||
            (typeof wrapper.metatype === 'function' && wrapper.metatype.prototype instanceof OAuth2Guard)),
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
