/** Metadata key of `@RequiredScopes()`. */
export const REQUIRED_SCOPES_METADATA = 'oauth2:required-scopes';
/** Metadata key of `@OAuth2Policy()`. */
export const POLICY_METADATA = 'oauth2:policy';
/** Metadata key of `@SkipOAuth2()`. */
export const SKIP_METADATA = 'oauth2:skip';
/** Metadata key of `@OptionalOAuth2()`. */
export const OPTIONAL_METADATA = 'oauth2:optional';

/** The options after validation and defaults: what every provider of the module reads. */
export const OAUTH2_RESOLVED_OPTIONS = Symbol('OAUTH2_RESOLVED_OPTIONS');

/** Default timeout, in milliseconds, of one request to an authorization server. */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Default bound, in bytes, of an authorization server's answer. Introspection answers are a few hundred bytes. */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024;
/** Default tolerance, in seconds, for clock differences when checking `exp` and `nbf`. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
/** Default realm of the `WWW-Authenticate` header. */
export const DEFAULT_REALM = 'api';
/**
 * Default token of a `cache-module` cache's provider: the value of `@nestjs/cache-manager`'s
 * `CACHE_MANAGER` (in its 3.x for Nest 11 and its 12.x alike), written out so that this module does
 * not import that optional package.
 */
export const DEFAULT_CACHE_MODULE_TOKEN = 'CACHE_MANAGER';
