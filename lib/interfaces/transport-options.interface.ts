import type { OAuth2ContextType } from '../transports/context-type';
import type { OAuth2TokenExtractors } from '../transports/transport-request';

/** How the guard works outside plain HTTP: GraphQL, WebSocket gateways, microservices. */
export interface OAuth2TransportOptions {
  /**
   * The context types that the guard bound by `global: true` checks: `http`, `graphql`, `ws`, `rpc`.
   * A handler of a type left out runs unchecked (unless it has `@UseGuards(OAuth2Guard)` of its own,
   * which checks whatever the type). Default: all four, so that no handler of a hybrid application
   * runs unprotected unless the configuration says so.
   */
  globalContextTypes?: OAuth2ContextType[];
  /** Where the token comes from, per transport, when the default does not fit. */
  tokenExtractors?: OAuth2TokenExtractors;
}

/** The transport options after defaults. */
export interface ResolvedOAuth2TransportOptions {
  readonly globalContextTypes: ReadonlySet<string>;
  readonly tokenExtractors: OAuth2TokenExtractors;
}
