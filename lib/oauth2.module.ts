import { Module } from '@nestjs/common';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { TokenCacheRegistry } from './cache/token-cache.registry';
import { OptionalPackageLoader } from './common/optional-package.loader';
import { OAuth2ExceptionFilter } from './errors/oauth2-exception.filter';
import { OAuth2Guard } from './guards/oauth2.guard';
import { TokenIntrospectionService } from './guards/token-introspection.service';
import { OAUTH2_RESOLVED_OPTIONS } from './oauth2.constants';
import { OAuth2ConfigurableModule } from './oauth2.module-definition';
import { OAuth2PolicyExplorer } from './oauth2-policy.explorer';
import { resolvedOptionsProvider } from './oauth2.providers';
import { ProtectedResourceMetadataRoute } from './protected-resource/protected-resource-metadata.route';
import { OAuth2ResourceRegistry } from './resources/oauth2-resource.registry';
import { OAuth2ConnectionAuthenticator } from './transports/oauth2-connection.authenticator';
import { OAuth2Telemetry } from './telemetry/oauth2-telemetry';
import { TransportPackagesLoader } from './transports/transport-packages';

/**
 * The `oauth2` policy for NestJS: registers the authorization-server resources, the cache resources,
 * the default policy and the response templates, and renders the guard's rejections.
 *
 * @example
 * @Module({
 *   imports: [
 *     OAuth2Module.forRoot({
 *       global: true,
 *       resources: [{ name: 'my-as', type: 'generic', introspectionEndpoint: 'https://as.example.com/introspect',
 *                     clientId: 'api', clientSecret: process.env.AS_SECRET }],
 *       caches: [{ name: 'local', timeToLiveSeconds: 300 }],
 *       policy: { oauthResource: 'my-as', oauthCacheResource: 'local' },
 *     }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    resolvedOptionsProvider,
    OAuth2ResourceRegistry,
    TokenCacheRegistry,
    OptionalPackageLoader,
    TokenIntrospectionService,
    OAuth2Guard,
    OAuth2PolicyExplorer,
    TransportPackagesLoader,
    OAuth2ConnectionAuthenticator,
    ProtectedResourceMetadataRoute,
    OAuth2Telemetry,
    { provide: APP_FILTER, useClass: OAuth2ExceptionFilter },
    // Also injectable, for an application whose own catch-all filter must hand OAuth2Exceptions on.
    OAuth2ExceptionFilter,
  ],
  exports: [
    OAUTH2_RESOLVED_OPTIONS,
    OAuth2ResourceRegistry,
    TokenCacheRegistry,
    TokenIntrospectionService,
    OAuth2Guard,
    OAuth2ExceptionFilter,
    OAuth2ConnectionAuthenticator,
    OAuth2Telemetry,
  ],
})
export class OAuth2Module extends OAuth2ConfigurableModule {}
