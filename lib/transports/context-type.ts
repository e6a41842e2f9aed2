/**
 * The kinds of Nest execution context the guard knows: an HTTP route, a GraphQL resolver, a WebSocket
 * gateway's message handler, a microservice's message or event handler. What `ExecutionContext.getType()`
 * answers, with `graphql` as `@nestjs/graphql` sets it.
 */
export type OAuth2ContextType = 'http' | 'graphql' | 'ws' | 'rpc';

/** Every context type the guard knows, in the order the documentation lists them. */
export const OAUTH2_CONTEXT_TYPES: readonly OAuth2ContextType[] = Object.freeze(['http', 'graphql', 'ws', 'rpc']);

/** Whether a value names a context type the guard knows. */
export function isOAuth2ContextType(value: unknown): value is OAuth2ContextType {
  return typeof value === 'string' && (OAUTH2_CONTEXT_TYPES as readonly string[]).includes(value);
}
