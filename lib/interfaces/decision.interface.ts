import type { ExecutionContext } from '@nestjs/common';
import type { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';

/**
 * One decision of the guard, given to the module's `onDecision` audit hook: who was allowed or
 * rejected, and why. It never holds the token: `tokenFingerprint` identifies it (the first 8 hex
 * digits of its SHA-256, as in the guard's debug log: `printf %s "$TOKEN" | sha256sum | cut -c1-8`).
 *
 * @example
 * OAuth2Module.forRoot({
 *   resources: [...],
 *   onDecision: (decision) => auditLog.write({ allowed: decision.allowed, key: decision.key, client: decision.clientId }),
 * });
 */
export interface OAuth2Decision {
  /** Whether the request may go on. */
  readonly allowed: boolean;
  /** The error key of a rejection; absent when `allowed`. */
  readonly key?: OAuth2ErrorKey;
  /** The resource (authorization server) the token was checked at; absent when none was chosen. */
  readonly resource?: string;
  /**
   * The token's client (`client_id`, else `aud`), once its payload was read: on every allowed
   * request with a token, and on a rejection for missing scopes.
   */
  readonly clientId?: string;
  /**
   * The token's fingerprint; absent when the request had no well-formed token (none at all, or a
   * credential outside RFC 6750's syntax, which is never a token and may be anything).
   */
  readonly tokenFingerprint?: string;
  /** The call: an HTTP request, a GraphQL operation, a gateway message, a microservice message. */
  readonly context: ExecutionContext;
}

/**
 * The `onDecision` audit hook: called synchronously after each decision of the guard, allowed or
 * rejected. Whatever it throws, or a promise it returns rejects with, is logged once and never
 * changes the decision; a returned promise is not waited for.
 */
export type OAuth2DecisionHook = (decision: OAuth2Decision) => unknown;
