import { Logger } from '@nestjs/common';
import { Axios, type AxiosError, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import type * as https from 'node:https';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { AuthorizationServerError, type AuthorizationServerErrorKey } from './authorization-server.error';
import type {
  OAuth2ResourceCommonOptions,
  OAuth2ResourceHttpOptions,
  OAuth2ResourceProxyOptions,
  OAuth2ResourceTlsOptions,
} from '../interfaces/resource-options.interface';
import { ConnectTimeoutError, ResourceAgents } from './http-agents';
import type { OutgoingRequest } from './outgoing-request';
import { resolveProxy } from './proxy-settings';
import { ProxyTunnelError } from './proxy-tunnel';
import {
  CircuitBreaker,
  type CircuitBreakerSettings,
  type CircuitState,
  type CircuitTicket,
  DEFAULT_CIRCUIT_BREAKER_COOL_DOWN_SECONDS,
  DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD,
} from './circuit-breaker';

/** Limits and TLS settings of the HTTP calls to one authorization server. */
export interface AuthorizationServerClientLimits {
  /** Milliseconds for the whole call, connection included. */
  readonly timeout: number;
  /** Largest answer accepted, in bytes. */
  readonly maxResponseBytes: number;
  /** TLS settings of `https://` connections. */
  readonly tls?: OAuth2ResourceTlsOptions;
  /** Most connections open to the server at once; more requests wait for one. Default 64. */
  readonly maxConcurrentConnections?: number;
  /** The circuit breaker, or `false` for none. Default: 10 failures, 10 s. */
  readonly circuitBreaker?: CircuitBreakerSettings | false;
  /** The resource's other `http` options (connect and idle timeouts, keep-alive, compression). */
  readonly httpClient?: OAuth2ResourceHttpOptions;
  /** The resource's `proxy` option. Default: no proxy, whatever the environment says. */
  readonly proxy?: OAuth2ResourceProxyOptions;
}

/** Default most connections a resource keeps open to its authorization server at once. */
export const DEFAULT_MAX_CONCURRENT_CONNECTIONS = 64;
/** Default time a kept-alive connection may stay unused before it is closed, in milliseconds. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** A resource's `http`, `proxy` and `circuitBreaker` options, defaults applied. */
export function resolveConnectionLimits(options: OAuth2ResourceCommonOptions): {
  maxConcurrentConnections: number;
  circuitBreaker: CircuitBreakerSettings | false;
  httpClient?: OAuth2ResourceHttpOptions;
  proxy?: OAuth2ResourceProxyOptions;
} {
  const breaker = options.circuitBreaker;
  return {
    ...(options.http !== undefined && { httpClient: options.http }),
    ...(options.proxy !== undefined && { proxy: options.proxy }),
    maxConcurrentConnections: options.http?.maxConcurrentConnections ?? DEFAULT_MAX_CONCURRENT_CONNECTIONS,
    circuitBreaker:
      breaker === false
        ? false
        : {
            failureThreshold: breaker?.failureThreshold ?? DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD,
            coolDownSeconds: breaker?.coolDownSeconds ?? DEFAULT_CIRCUIT_BREAKER_COOL_DOWN_SECONDS,
          },
  };
}

/**
 * The whole configuration of every request, every member axios reads set here. The client's axios
 * instance is built from it alone, not with `axios.create()`, which merges in `axios.defaults`:
 * headers, `baseURL`, `params`, `auth`, `proxy`, transforms or an adapter an application sets on the
 * global axios never reach an introspection request. `proxy: false` keeps axios from following the
 * environment's `HTTP_PROXY` / `HTTPS_PROXY` on its own: a proxy is the resource's agents' business,
 * and only when its `proxy` option asks for one.
 */
const REQUEST_DEFAULTS: AxiosRequestConfig = Object.freeze({
  adapter: 'http',
  headers: {},
  baseURL: undefined,
  params: undefined,
  auth: undefined,
  paramsSerializer: undefined,
  transformRequest: [(data: unknown) => data],
  transformResponse: [(data: unknown) => data],
  transitional: { silentJSONParsing: false, forcedJSONParsing: false, clarifyTimeoutError: false },
  responseType: 'text',
  responseEncoding: 'utf8',
  decompress: true,
  proxy: false,
  maxRedirects: 0,
  maxBodyLength: -1,
  withCredentials: false,
  xsrfCookieName: undefined,
  xsrfHeaderName: undefined,
  validateStatus: () => true,
});

/**
 * The TLS options of the https agent. `rejectUnauthorized` is always set explicitly, so that
 * `NODE_TLS_REJECT_UNAUTHORIZED=0` in the environment cannot turn verification off behind the
 * resource's back: only `insecureSkipVerify` can.
 */
export function httpsAgentOptions(tls: OAuth2ResourceTlsOptions = {}): https.AgentOptions {
  return {
    keepAlive: true,
    rejectUnauthorized: tls.insecureSkipVerify !== true,
    ...(tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.cert !== undefined && { cert: tls.cert }),
    ...(tls.key !== undefined && { key: tls.key }),
    ...(tls.passphrase !== undefined && { passphrase: tls.passphrase }),
  };
}

/** OpenSSL verification codes, and Node's, of a server certificate that was not accepted. */
const CERTIFICATE_CODES =
  /^(UNABLE_TO_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH|ERR_TLS_CERT_)/;
/** Other TLS failures: alerts from the server (such as a required client certificate), protocol errors. */
const HANDSHAKE_CODES = /^(ERR_SSL_|ERR_TLS_|EPROTO$)/;

/**
 * Whether a failure is the keep-alive race: the request went out on a reused connection that the
 * server had just closed (Node's documented case for `request.reusedSocket`), and came back with a
 * reset before any answer. Introspection and userinfo are safe to send again.
 */
function isStaleConnection(error: unknown): boolean {
  const { code, request, response } = (error ?? {}) as {
    code?: unknown;
    request?: { reusedSocket?: unknown; res?: unknown };
    response?: unknown;
  };
  // Not a single byte of answer (`res` is set once the status line and headers have come): an answer
  // broken off midway is the server's failure, and is not sent again.
  return (
    (code === 'ECONNRESET' || code === 'EPIPE') &&
    request?.reusedSocket === true &&
    (request.res === undefined || request.res === null) &&
    response === undefined
  );
}

/** An authorization server's answer: its status and raw body, which never leaves the module. */
export interface ServerAnswer {
  readonly status: number;
  readonly body: string;
  /** The `Retry-After` of a 429 or 503, in seconds, when it is valid. */
  readonly retryAfterSeconds?: number;
}

/** Longest `Retry-After` passed on to clients: an hour; a longer one is capped. */
const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * A `Retry-After` value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) in whole seconds from now,
 * at least 1 and at most an hour; `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    return undefined;
  }
  const text = value.trim();
  // The three HTTP-date forms all start with the day's name; without it, Date.parse would read `-5`
  // or `1.5` as dates.
  const seconds = /^\d{1,10}$/.test(text)
    ? Number(text)
    : /^[A-Za-z]{3}/.test(text)
      ? Math.ceil((Date.parse(text) - now) / 1000)
      : Number.NaN;
  if (!Number.isFinite(seconds)) {
    return undefined;
  }
  return Math.min(Math.max(seconds, 1), MAX_RETRY_AFTER_SECONDS);
}

/**
 * Sends the requests of one resource to its authorization server over kept-alive connections,
 * bounded in time and size, never following redirects. Logs an outage once when it starts and
 * once when it ends, never once per request.
 */
export class AuthorizationServerClient {
  private readonly logger = new Logger('OAuth2Resource');
  private readonly agents: ResourceAgents;
  private readonly useCompression: boolean;
  /**
   * An axios instance of this client's own, not axios's process-wide default, and built without its
   * defaults: interceptors an application adds to `axios` never see the token or the client
   * credentials sent here, and its defaults never change the requests.
   */
  private readonly http = new Axios(REQUEST_DEFAULTS);
  private readonly breaker: CircuitBreaker | undefined;
  private outageSince: number | undefined;

  constructor(
    private readonly resourceName: string,
    private readonly limits: AuthorizationServerClientLimits,
  ) {
    // A burst of cold tokens waits for a connection rather than opening one each: the server sees at
    // most this many at once. The wait counts in each request's timeout (see attempt()).
    const maxSockets = limits.maxConcurrentConnections ?? DEFAULT_MAX_CONCURRENT_CONNECTIONS;
    const client = limits.httpClient ?? {};
    this.agents = new ResourceAgents(
      {
        keepAlive: client.keepAlive ?? true,
        idleTimeoutMs: client.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS,
        connectTimeoutMs: Math.min(client.connectTimeout ?? limits.timeout, limits.timeout),
        maxSockets,
        tls: httpsAgentOptions(limits.tls),
      },
      resolveProxy(limits.proxy),
    );
    this.useCompression = client.useCompression ?? true;
    this.breaker =
      limits.circuitBreaker === false
        ? undefined
        : new CircuitBreaker(
            limits.circuitBreaker ?? {
              failureThreshold: DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD,
              coolDownSeconds: DEFAULT_CIRCUIT_BREAKER_COOL_DOWN_SECONDS,
            },
            resourceName,
            this.logger,
          );
  }

  /** Warns about dangerous settings, and says which proxy is used. Called once, when the application starts. */
  logStartupWarnings(): void {
    for (const line of this.agents.describeProxies()) {
      // Host and port only: never the credentials.
      this.logger.log(`resource '${this.resourceName}' reaches ${line}`);
    }
    if (this.limits.tls?.insecureSkipVerify === true) {
      // Said at start-up, where it is seen, and loudly: it turns token validation into a formality.
      this.logger.warn(
        `resource '${this.resourceName}': tls.insecureSkipVerify is on: the authorization server's TLS certificate is NOT verified, ` +
          'so anyone on the network path can pose as it and declare every token active. Use it for local development only; ' +
          'trust a private CA with tls.ca instead.',
      );
    }
  }

  /**
   * Sends a request and returns the answer, whatever its status.
   *
   * @throws AuthorizationServerError (`OAUTH2_SERVER_UNAVAILABLE`) when there is no answer in time,
   * or at once, without a request, while the circuit is open.
   */
  async send(request: OutgoingRequest): Promise<ServerAnswer> {
    const admission = this.breaker?.admit();
    if (admission !== undefined && 'retryAfterSeconds' in admission) {
      // Not through failure(): the opening of the circuit was logged once, its requests are not.
      throw new AuthorizationServerError(
        OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE,
        this.resourceName,
        'is not called: its circuit is open after repeated failures',
        admission.retryAfterSeconds,
      );
    }
    const ticket: CircuitTicket | undefined = admission;
    const deadline = Date.now() + this.limits.timeout;
    let response: AxiosResponse<string>;
    try {
      response = await this.attempt(request, this.limits.timeout).catch((error: unknown) => {
        // A kept-alive connection the server closed just as it was reused: nothing reached the server,
        // so the request is sent once more, on a new connection, within what is left of the timeout.
        const left = deadline - Date.now();
        if (isStaleConnection(error) && left > 0) {
          return this.attempt(request, left);
        }
        throw error;
      });
    } catch (error) {
      const { reason, key } = this.describeFailure(error);
      if (ticket !== undefined) {
        // An answer too large is a server that answers: only silence and broken connections count.
        if (key === OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE) {
          this.breaker?.failed(ticket);
        } else {
          this.breaker?.succeeded(ticket);
        }
      }
      throw this.failure(reason, key);
    }
    if (ticket !== undefined) {
      if (response.status >= 500) {
        this.breaker?.failed(ticket);
      } else {
        this.breaker?.succeeded(ticket);
      }
    }
    const retryAfter =
      response.status === 429 || response.status === 503
        ? parseRetryAfter(response.headers?.['retry-after'])
        : undefined;
    return {
      status: response.status,
      body: typeof response.data === 'string' ? response.data : '',
      ...(retryAfter !== undefined && { retryAfterSeconds: retryAfter }),
    };
  }

  /** The state of the resource's circuit breaker, or `'none'` when it has none. */
  get circuitState(): CircuitState | 'none' {
    return this.breaker?.currentState ?? 'none';
  }

  /**
   * Sends a health check's request, bounded by the resource's timeout, outside the circuit breaker
   * (neither admitted by it nor counted in it, so that health checks can neither open nor close the
   * circuit) and outside the outage log (a probe of a server that is down is not a second outage).
   *
   * @throws AuthorizationServerError when there is no answer in time, or no complete one.
   */
  async probe(request: OutgoingRequest): Promise<ServerAnswer> {
    try {
      const response = await this.attempt(request, this.limits.timeout);
      return { status: response.status, body: typeof response.data === 'string' ? response.data : '' };
    } catch (error) {
      const { reason, key } = this.describeFailure(error);
      throw new AuthorizationServerError(key, this.resourceName, reason);
    }
  }

  /**
   * One HTTP exchange, bounded by `timeout` milliseconds from now: the wait for a free connection,
   * the connection and the answer all count (axios's own `timeout` starts only once a socket is
   * assigned, so the abort signal is the bound).
   */
  private attempt(request: OutgoingRequest, timeout: number): Promise<AxiosResponse<string>> {
    const { httpAgent, httpsAgent } = this.agents.for(request.url);
    return this.http.request<string>({
      url: request.url,
      method: request.method,
      // Without compression, say so (a server may compress unasked otherwise); with it, axios asks for
      // gzip, deflate and br, and counts maxContentLength after decompression.
      headers: this.useCompression ? { ...request.headers } : { ...request.headers, 'Accept-Encoding': 'identity' },
      decompress: this.useCompression,
      data: request.body,
      timeout,
      signal: AbortSignal.timeout(timeout),
      maxContentLength: this.limits.maxResponseBytes,
      httpAgent,
      httpsAgent,
    });
  }

  /** Records a failed call (for the outage log) and returns the error to throw. */
  failure(
    reason: string,
    key: AuthorizationServerErrorKey = OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE,
    retryAfterSeconds?: number,
  ): AuthorizationServerError {
    const error = new AuthorizationServerError(key, this.resourceName, reason, retryAfterSeconds);
    if (this.outageSince === undefined) {
      this.outageSince = Date.now();
      this.logger.warn(`${error.message}: requests are rejected until it answers again`);
    } else {
      this.logger.debug(error.message);
    }
    return error;
  }

  /** Records a successful call; ends an outage. */
  success(): void {
    if (this.outageSince !== undefined) {
      const seconds = ((Date.now() - this.outageSince) / 1000).toFixed(1);
      this.outageSince = undefined;
      this.logger.log(
        `authorization server of resource '${this.resourceName}' answers again, after ${seconds} s of failures`,
      );
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agents.destroy();
  }

  /**
   * A short reason for a failed call, with the error's code only. Axios messages are not used: they
   * may hold the URL, and so a token.
   */
  private describeFailure(error: unknown): { reason: string; key: AuthorizationServerErrorKey } {
    const axiosError = error as Partial<AxiosError>;
    const code = typeof axiosError?.code === 'string' ? axiosError.code : undefined;
    const unavailable = (reason: string) => ({ reason, key: OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE as const });
    const cause = axiosError?.cause;
    if (cause instanceof ProxyTunnelError) {
      // Our own message: the proxy's host and port and what it did, never its credentials.
      return unavailable(`could not be reached: ${cause.message}`);
    }
    if (cause instanceof ConnectTimeoutError) {
      return unavailable(`did not accept a connection within ${cause.milliseconds} ms`);
    }
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') {
      return unavailable(`did not answer within ${this.limits.timeout} ms`);
    }
    if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(String(axiosError.message))) {
      return {
        reason: `answered more than ${this.limits.maxResponseBytes} bytes`,
        key: OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE,
      };
    }
    if (code === 'ERR_BAD_RESPONSE' || code === 'ECONNRESET' || code === 'EPIPE') {
      return unavailable(`broke off the connection before a complete answer (${code})`);
    }
    if (code !== undefined && CERTIFICATE_CODES.test(code)) {
      return unavailable(`presented a TLS certificate that is not trusted (${code}): check the resource's tls.ca`);
    }
    if (code !== undefined && HANDSHAKE_CODES.test(code)) {
      return unavailable(`failed the TLS handshake (${code}): check the resource's tls settings`);
    }
    return unavailable(`could not be reached (${code ?? 'network error'})`);
  }
}
