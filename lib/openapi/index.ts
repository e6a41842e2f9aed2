export { applyOAuth2OpenApi, type OpenApiConfig } from './apply-oauth2-openapi';
export type { OAuth2OpenApiOptions } from './oauth2-openapi.options';
export { OAUTH2_ERROR_SCHEMA } from './oauth2-error.schema';
