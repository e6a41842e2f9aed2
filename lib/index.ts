export { OAuth2Module } from './oauth2.module';
export { OAUTH2_MODULE_OPTIONS } from './oauth2.module-definition';
export { OAuth2Guard } from './guards/oauth2.guard';
export { TokenIntrospectionService } from './guards/token-introspection.service';
export { AccessToken, OAuth2Attribute, OAuth2Payload, OAuth2Policy, RequiredScopes, SkipOAuth2 } from './decorators';
export {
  OAuth2ConfigurationError,
  OAuth2ErrorKey,
  OAuth2Exception,
  OAuth2ExceptionFilter,
  type OAuth2ErrorBody,
  type OAuth2ErrorResponse,
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
export { getOAuth2Attributes } from './request/oauth2-request-state';
export type * from './interfaces';
