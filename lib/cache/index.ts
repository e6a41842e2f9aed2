export * from './token-cache';
export * from './token-cache.registry';
export * from './token-cache-eviction.error';
export * from './token-cache-store.interface';
