export * from './oauth2-configuration.error';
export * from './oauth2-error-key.enum';
export * from './oauth2.exception';
export * from './oauth2-exception.filter';
export type { OAuth2ErrorResponse } from './error-response';
