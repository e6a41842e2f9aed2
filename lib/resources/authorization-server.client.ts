import { Logger } from '@nestjs/common';
import { Axios, type AxiosError, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import * as http from 'node:http';
import * as https from 'node:https';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { AuthorizationServerError, type AuthorizationServerErrorKey } from './authorization-server.error';
import type { OAuth2ResourceCommonOptions, OAuth2ResourceTlsOptions } from '../interfaces/resource-options.interface';
import type { OutgoingRequest } from './outgoing-request';
import {
  CircuitBreaker,
  type CircuitBreakerSettings,
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
}

/** Default most connections a resource keeps open to its authorization server at once. */
export const DEFAULT_MAX_CONCURRENT_CONNECTIONS = 64;

/** A resource's `http.maxConcurrentConnections` and `circuitBreaker` options, defaults applied. */
export function resolveConnectionLimits(options: OAuth2ResourceCommonOptions): {
  maxConcurrentConnections: number;
  circuitBreaker: CircuitBreakerSettings | false;
} {
  const breaker = options.circuitBreaker;
  return {
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
 * global axios never reach an introspection request. `proxy` is left unset: axios then follows the
 * environment's `HTTP_PROXY` / `HTTPS_PROXY`, as before (issue 17).
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
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
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
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.httpsAgent = new https.Agent({ ...httpsAgentOptions(limits.tls), maxSockets });
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

  /** Warns about dangerous settings. Called once, when the application starts. */
  logStartupWarnings(): void {
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

  /**
   * One HTTP exchange, bounded by `timeout` milliseconds from now: the wait for a free connection,
   * the connection and the answer all count (axios's own `timeout` starts only once a socket is
   * assigned, so the abort signal is the bound).
   */
  private attempt(request: OutgoingRequest, timeout: number): Promise<AxiosResponse<string>> {
    return this.http.request<string>({
      url: request.url,
      method: request.method,
      headers: { ...request.headers },
      data: request.body,
      timeout,
      signal: AbortSignal.timeout(timeout),
      maxContentLength: this.limits.maxResponseBytes,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
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
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * A short reason for a failed call, with the error's code only. Axios messages are not used: they
   * may hold the URL, and so a token.
   */
  private describeFailure(error: unknown): { reason: string; key: AuthorizationServerErrorKey } {
    const axiosError = error as Partial<AxiosError>;
    const code = typeof axiosError?.code === 'string' ? axiosError.code : undefined;
    const unavailable = (reason: string) => ({ reason, key: OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE as const });
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
