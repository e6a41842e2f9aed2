import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { OAuth2ResourceOptions } from '../interfaces/resource-options.interface';
import type { ResolvedOAuth2ModuleOptions } from '../options/resolved-options';
import { GenericOAuth2Resource, genericResourceSettings } from './generic-oauth2.resource';
import { GraviteeAmResource } from './gravitee-am.resource';
import { IssuerDiscoveredResource } from './issuer-discovered.resource';
import { OAuth2Resource } from './oauth2-resource';
import { InjectOAuth2Options } from '../decorators/inject-oauth2-options.decorator';

/**
 * The registered authorization-server resources, by name. Inject it to introspect a token or fetch
 * userinfo yourself.
 *
 * @example
 * constructor(private readonly resources: OAuth2ResourceRegistry) {}
 * const info = await this.resources.get('my-as').userInfo(token);
 */
@Injectable()
export class OAuth2ResourceRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly resources = new Map<string, OAuth2Resource>();

  constructor(@InjectOAuth2Options() options: ResolvedOAuth2ModuleOptions) {
    for (const resourceOptions of options.resources) {
      this.resources.set(resourceOptions.name, createResource(resourceOptions));
    }
  }

  /**
   * The resource registered under a name.
   *
   * @throws Error naming the registered resources when there is none by that name.
   */
  get(name: string): OAuth2Resource {
    const resource = this.resources.get(name);
    if (!resource) {
      throw new Error(`No OAuth2 resource named '${name}' (registered: ${this.names().join(', ')})`);
    }
    return resource;
  }

  /** The resource registered under a name, or `undefined`. */
  find(name: string): OAuth2Resource | undefined {
    return this.resources.get(name);
  }

  /** The registered names, in registration order. */
  names(): string[] {
    return [...this.resources.keys()];
  }

  /**
   * Logs the resources' start-up warnings, once the application's logger is in place, and makes one
   * discovery attempt per resource configured with `issuer` (a failed one is retried in the
   * background: the application starts all the same).
   */
  async onModuleInit(): Promise<void> {
    for (const resource of this.resources.values()) {
      resource.logStartupWarnings();
    }
    await Promise.all(
      [...this.resources.values()]
        .filter((resource) => resource instanceof IssuerDiscoveredResource)
        .map((resource) => resource.discover()),
    );
  }

  /** Closes the kept-alive connections when the application shuts down. */
  onApplicationShutdown(): void {
    for (const resource of this.resources.values()) {
      resource.close();
    }
  }
}

function createResource(options: OAuth2ResourceOptions): OAuth2Resource {
  switch (options.type) {
    case 'generic':
      return options.issuer === undefined
        ? new GenericOAuth2Resource(genericResourceSettings(options))
        : new IssuerDiscoveredResource({ ...options, issuer: options.issuer });
    case 'gravitee-am':
      return new GraviteeAmResource(options);
  }
}
