import type { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';

/** What to answer instead of the default error response. Unset parts keep the key's default. */
export interface OAuth2ResponseTemplate {
  /** HTTP status. Default: the key's status. */
  status?: number;
  /** Headers to set; they replace the default `WWW-Authenticate` when they name it. */
  headers?: Record<string, string>;
  /**
   * The body: a string is sent as is, an object as JSON. It may use the placeholders `{{key}}`,
   * `{{status}}`, `{{message}}`, `{{requestId}}` and `{{requiredScopes}}` (in an object, inside string
   * values), escaped for the body's `Content-Type`; any other `{{name}}` stops the start.
   * Default: the key's JSON body. With an object, a
   * `Content-Type` in `headers` must be `application/json` or a `+json` type, or the application does not start.
   */
  body?: string | Record<string, unknown>;
}

/**
 * Response templates by error key, then by media type of the request's `Accept` header
 * (`application/json`, `text/*`, ...); the `*\/*` entry is the fallback.
 */
export type OAuth2ResponseTemplates = Partial<Record<`${OAuth2ErrorKey}`, Record<string, OAuth2ResponseTemplate>>>;
