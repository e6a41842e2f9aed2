import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import type { OAuth2PolicyOptions } from '../interfaces/policy-options.interface';
import { POLICY_METADATA, REQUIRED_SCOPES_METADATA } from '../oauth2.constants';
import type { ResolvedOAuth2ModuleOptions } from '../options/resolved-options';
import { PROTECTED_RESOURCE_CACHE_CONTROL, protectedResourceMetadata } from './protected-resource-metadata';
import { InjectOAuth2Options } from '../decorators/inject-oauth2-options.decorator';

/**
 * Serves the RFC 9728 document when `protectedResource` is set. The route goes on the HTTP adapter
 * itself, not on a Nest controller: RFC 9728 §3.1 puts the document at the origin's root, where a
 * global prefix or URI versioning would move a controller's route, and no guard (the global one
 * included) applies to it.
 */
@Injectable()
export class ProtectedResourceMetadataRoute implements OnModuleInit {
  private readonly logger = new Logger('OAuth2Module');

  constructor(
    @InjectOAuth2Options() private readonly options: ResolvedOAuth2ModuleOptions,
    private readonly adapterHost: HttpAdapterHost,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  /** Before Nest registers its not-found handler (Express) and before the server is ready (Fastify). */
  onModuleInit(): void {
    const resolved = this.options.protectedResource;
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    if (!resolved || !adapter) {
      // No protectedResource, or no HTTP server (a standalone application or a microservice alone).
      return;
    }
    // Certificate-bound tokens are checked on every route; a trusted proxy's header says certificates reach us.
    const certificateBound =
      this.options.policy.requireCertificateBinding || this.options.trustedClientCertificateHeader !== undefined;
    const document = protectedResourceMetadata(resolved, this.options.policy, this.requiredScopes(), certificateBound);
    for (const path of resolved.metadataPaths) {
      adapter.get(path, (_request: unknown, response: unknown) => {
        adapter.setHeader(response, 'Cache-Control', PROTECTED_RESOURCE_CACHE_CONTROL);
        adapter.reply(response, document, 200);
      });
    }
    this.logger.log(`protected-resource metadata at ${resolved.metadataPaths.join(' and ')}`);
  }

  /**
   * Every scope that `@RequiredScopes()` (or `@OAuth2Policy({ requiredScopes })`) names on a
   * controller, a provider (GraphQL resolvers, gateways) or one of their methods, and the module
   * policy's: read once, at start-up. Sorted, so the document does not depend on module order.
   */
  private requiredScopes(): string[] {
    const scopes = new Set<string>(this.options.policy.requiredScopes);
    const classes = new Set<new (...args: never[]) => object>();
    for (const wrapper of this.discovery.getControllers()) {
      if (typeof wrapper.metatype === 'function') {
        classes.add(wrapper.metatype as new (...args: never[]) => object);
      }
    }
    for (const wrapper of this.discovery.getProviders()) {
      // The class of an instance: a factory provider's metatype is its factory, not a class.
      const instance: unknown = wrapper.instance;
      if (typeof instance === 'object' && instance !== null && instance.constructor !== Object) {
        classes.add(instance.constructor as new (...args: never[]) => object);
      }
    }
    for (const target of classes) {
      this.addScopesOf(target, scopes);
      const prototype = target.prototype as Record<string, unknown> | undefined;
      if (!prototype) {
        continue;
      }
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method];
        if (typeof handler === 'function') {
          this.addScopesOf(handler, scopes);
        }
      }
    }
    return [...scopes].sort();
  }

  private addScopesOf(target: object, scopes: Set<string>): void {
    const required = this.reflector.get<string[] | undefined>(REQUIRED_SCOPES_METADATA, target as never) ?? [];
    const policy = this.reflector.get<OAuth2PolicyOptions | undefined>(POLICY_METADATA, target as never);
    for (const scope of [...required, ...(policy?.requiredScopes ?? [])]) {
      scopes.add(scope);
    }
  }
}
