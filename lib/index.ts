export { OAuth2Module } from './oauth2.module';
export { OAUTH2_MODULE_OPTIONS } from './oauth2.module-definition';
export { OAuth2Guard } from './guards/oauth2.guard';
export { TokenIntrospectionService } from './guards/token-introspection.service';
export {
  AccessToken,
  InjectOAuth2Options,
  OAuth2Attribute,
  OAuth2Payload,
  OAuth2Policy,
  OptionalOAuth2,
  RequiredScopes,
  SkipOAuth2,
} from './decorators';
export {
  OAuth2ConfigurationError,
  OAuth2ErrorKey,
  OAuth2Exception,
  OAuth2ExceptionFilter,
  type OAuth2ErrorBody,
  type OAuth2ErrorResponse,
  type OAuth2DpopChallenge,
  type OAuth2ExceptionDetails,
} from './errors';
export {
  AuthorizationServerError,
  GenericOAuth2Resource,
  GraviteeAmResource,
  OAuth2Resource,
  OAuth2ResourceRegistry,
} from './resources';
export {
  TokenCache,
  TokenCacheEvictionError,
  TokenCacheRegistry,
  type CachedIntrospection,
  type TokenCacheEvictOptions,
  type TokenCacheSettings,
  type TokenCacheStore,
} from './cache';
export { OAuth2RequestState, getOAuth2Attributes } from './request/oauth2-request-state';
export type { GuardedRequest } from './request/http-request';
export type { TokenClaims } from './guards/payload-claims';
export type { ResolvedOAuth2ModuleOptions } from './options/resolved-options';
export { OAUTH2_CONTEXT_TYPES, type OAuth2ContextType } from './transports/context-type';
export {
  OAuth2GraphQLError,
  type OAuth2GraphQLErrorExtensions,
  type OAuth2TransportError,
} from './transports/transport-error';
export type { OAuth2TokenExtractor, OAuth2TokenExtractors } from './transports/transport-request';
export {
  OAuth2ConnectionAuthenticator,
  type GraphQLWsConnectionContext,
  type OAuth2ConnectionIdentity,
  type OAuth2ConnectionOptions,
} from './transports/oauth2-connection.authenticator';
export { OAuth2Telemetry } from './telemetry/oauth2-telemetry';
export type * from './interfaces';
