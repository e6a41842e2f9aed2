export * from './oauth2-policy.decorator';
export * from './request-attributes.decorator';
export * from './required-scopes.decorator';
export * from './skip-oauth2.decorator';
export * from './optional-oauth2.decorator';
export * from './inject-oauth2-options.decorator';
