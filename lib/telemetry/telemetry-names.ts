/** The name of the meter and of the tracer: the package's. */
export const TELEMETRY_SCOPE = 'nestjs-oauth2-policy';

/** The instruments and the span, by the names `docs/telemetry.md` documents. */
export const TELEMETRY_NAMES = Object.freeze({
  introspections: 'oauth2.introspections',
  introspectionDuration: 'oauth2.introspection.duration',
  cacheLookups: 'oauth2.cache.lookups',
  rejections: 'oauth2.rejections',
  breakerState: 'oauth2.breaker.state',
  introspectSpan: 'oauth2.introspect',
});

/**
 * How an introspection ended, the `outcome` attribute: the server's answer (`active`, `inactive`),
 * or why there was none (`server_unavailable`, which includes an open circuit, and
 * `invalid_server_response`), or `error` for anything unexpected.
 */
export type IntrospectionOutcome = 'active' | 'inactive' | 'server_unavailable' | 'invalid_server_response' | 'error';

/** The value of `oauth2.breaker.state` for each state of a circuit. */
export const BREAKER_STATE_VALUES = Object.freeze({ closed: 0, 'half-open': 1, open: 2 });
