export * from './cache-options.interface';
export * from './introspection.interface';
export * from './module-options.interface';
export * from './policy-options.interface';
export * from './protected-resource-options.interface';
export * from './resource-options.interface';
export * from './response-template.interface';
export * from './transport-options.interface';
