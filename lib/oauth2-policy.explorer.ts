import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { OAuth2ConfigurationError } from './errors/oauth2-configuration.error';
import type { OAuth2PolicyOptions } from './interfaces/policy-options.interface';
import { OAUTH2_RESOLVED_OPTIONS, POLICY_METADATA } from './oauth2.constants';
import { type ResolvedOAuth2ModuleOptions, namedReferenceProblems } from './options/validate-options';

/**
 * Checks, when the application starts, that every `@OAuth2Policy()` names registered resources and
 * caches, so that a typo fails the start instead of rejecting requests with `OAUTH2_MISSING_SERVER`.
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
    const problems = this.discovery.getControllers().flatMap((wrapper) => {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null | undefined;
      if (!controller || typeof controller !== 'function') {
        return [];
      }
      const targets: Array<[string, object]> = [[`@OAuth2Policy() of ${controller.name}`, controller]];
      for (const method of this.scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[method];
        if (typeof handler === 'function') {
          targets.push([`@OAuth2Policy() of ${controller.name}.${method}`, handler]);
        }
      }
      return targets.flatMap(([field, target]) => {
        const policy = this.reflector.get<OAuth2PolicyOptions | undefined>(POLICY_METADATA, target as never);
        return policy ? namedReferenceProblems(policy, field, this.options.resources, this.options.caches) : [];
      });
    });
    if (problems.length > 0) {
      throw OAuth2ConfigurationError.fromProblems(problems);
    }
  }
}
