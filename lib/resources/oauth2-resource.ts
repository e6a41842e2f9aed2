import { randomBytes } from 'node:crypto';
import { freezeJson } from '../common/freeze-json';
import { isJsonObject } from '../common/is-json-object';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import type { IntrospectionPayload, IntrospectionResult } from '../interfaces/introspection.interface';
import { type AuthorizationServerClient, type ServerAnswer } from './authorization-server.client';
import { AuthorizationServerError } from './authorization-server.error';
import type { CircuitState } from './circuit-breaker';
import type { OutgoingRequest } from './outgoing-request';

/**
 * What a health check found of a resource's authorization server (see {@link OAuth2Resource.checkHealth}).
 * Nothing in it is secret: no token, credential, URL or answer body.
 */
export interface OAuth2ResourceHealth {
  /** Whether the server answered within the resource's timeout with a valid answer or a 4xx. */
  readonly up: boolean;
  /** Milliseconds from the request to the answer (or to the failure). */
  readonly latencyMs: number;
  /** The state of the resource's circuit breaker, `'none'` without one. */
  readonly circuit: CircuitState | 'none';
  /** The HTTP status of the answer, when there was one. */
  readonly httpStatus?: number;
  /** Why the server counts as down, in a few words. */
  readonly reason?: string;
}

/**
 * An authorization server the guard introspects tokens at: one per entry of `resources`. Inject
 * {@link OAuth2ResourceRegistry} and call `get(name)` to use one directly.
 *
 * @example
 * const payload = await registry.get('my-as').introspect(token);
 */
export abstract class OAuth2Resource {
  /** The resource's name in `resources`. */
  abstract readonly name: string;
  /** The claim that names the user. */
  abstract readonly userClaim: string;
  /** The separator of a string `scope` claim. */
  abstract readonly scopeSeparator: string;

  protected constructor(protected readonly client: AuthorizationServerClient) {}

  /**
   * Asks the authorization server about a token (RFC 7662).
   *
   * @returns whether the token is active, and the server's payload (parsed and frozen).
   * @throws AuthorizationServerError when the server gives no valid answer.
   */
  async introspect(token: string): Promise<IntrospectionResult> {
    const answer = await this.client.send(this.buildIntrospectionRequest(token));
    if (answer.status !== 200 && this.isRefusalOfToken(answer.status, answer.body)) {
      this.client.success();
      return { active: false, payload: Object.freeze({}) };
    }
    const payload = await this.readIntrospectionAnswer(answer);
    const active = this.isActive(payload);
    if (active === undefined) {
      throw this.client.failure(
        'answered without a valid boolean `active` member',
        OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE,
      );
    }
    this.client.success();
    return { active, payload };
  }

  /**
   * Fetches the OpenID Connect userinfo of a token.
   *
   * @throws AuthorizationServerError when the server gives no valid answer.
   */
  async userInfo(token: string): Promise<IntrospectionPayload> {
    const answer = await this.client.send(this.buildUserInfoRequest(token));
    const payload = this.parseAnswer(answer.status, answer.body, answer.retryAfterSeconds);
    this.client.success();
    return payload;
  }

  /**
   * Checks that the authorization server answers within the resource's timeout, without spending a
   * real token: it introspects a random one of its own, which no server knows. A well-formed RFC 7662
   * answer (`active` false) or a 4xx counts as up (the server answers; a 401 or 403 would also mean
   * the resource's client credentials are refused, hence `httpStatus`); no answer in time, a broken
   * connection, a 5xx or a 200 that is not an introspection answer count as down.
   *
   * The check goes around the circuit breaker (it neither opens nor closes the circuit, and runs even
   * while it is open, so that a readiness probe can see the server come back), around the outage log
   * and around every cache.
   */
  async checkHealth(): Promise<OAuth2ResourceHealth> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const result = (up: boolean, extra: { httpStatus?: number; reason?: string }): OAuth2ResourceHealth => ({
      up,
      latencyMs: elapsed(),
      circuit: this.client.circuitState,
      ...extra,
    });
    let status: number;
    let body: string;
    try {
      ({ status, body } = await this.client.probe(
        this.buildIntrospectionRequest(`health-check.${randomBytes(24).toString('base64url')}`),
      ));
    } catch (error) {
      return result(false, {
        reason: error instanceof AuthorizationServerError ? error.reason : 'could not be reached',
      });
    }
    if (status >= 500 || status < 200 || (status >= 300 && status < 400)) {
      return result(false, { httpStatus: status, reason: `answered HTTP ${status}` });
    }
    if (status !== 200) {
      return result(true, { httpStatus: status });
    }
    if (!this.isIntrospectionAnswer(body)) {
      return result(false, { httpStatus: status, reason: 'answered 200 without a valid introspection answer' });
    }
    return result(true, { httpStatus: status });
  }

  /**
   * Whether a health check's 200 body is an introspection answer: RFC 7662 JSON with a valid `active`.
   * Synchronous and silent (no log line, no request): a health check only asks whether the server answers.
   */
  protected isIntrospectionAnswer(body: string): boolean {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return false;
    }
    return isJsonObject(parsed) && this.isActive(parsed as IntrospectionPayload) !== undefined;
  }

  /** The state of the resource's circuit breaker, `'none'` without one; reading it changes nothing. */
  get circuitState(): CircuitState | 'none' {
    return this.client.circuitState;
  }

  /** Warns about dangerous settings, such as `tls.insecureSkipVerify`. Called once, when the application starts. */
  logStartupWarnings(): void {
    this.client.logStartupWarnings();
  }

  /** Closes the resource's connections. Called when the application shuts down. */
  close(): void {
    this.client.close();
  }

  /** The introspection request for a token. */
  abstract buildIntrospectionRequest(token: string): OutgoingRequest;

  /** The userinfo request for a token. */
  abstract buildUserInfoRequest(token: string): OutgoingRequest;

  /** Whether a payload says the token is active; `undefined` when it cannot say (an invalid answer). */
  abstract isActive(payload: IntrospectionPayload): boolean | undefined;

  /**
   * Whether a non-200 answer means "this token is not valid" rather than a server failure. RFC 7662
   * servers answer 200 `{"active":false}`, so by default none does; pre-RFC endpoints differ.
   */
  protected isRefusalOfToken(_status: number, _body: string): boolean {
    return false;
  }

  /**
   * The payload of an introspection answer: RFC 7662 JSON by default; a resource that asks for signed
   * answers (RFC 9701) verifies them here.
   */
  protected readIntrospectionAnswer(answer: ServerAnswer): IntrospectionPayload | Promise<IntrospectionPayload> {
    return this.parseAnswer(answer.status, answer.body, answer.retryAfterSeconds);
  }

  /** Checks the status and parses a JSON object, or throws with the right key. */
  protected parseAnswer(status: number, body: string, retryAfterSeconds?: number): IntrospectionPayload {
    if (status !== 200) {
      throw this.client.failure(
        `answered HTTP ${status}${STATUS_HINTS[status] ?? ''}`,
        OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE,
        retryAfterSeconds,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw this.client.failure('answered a body that is not JSON', OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE);
    }
    return this.frozenPayload(parsed);
  }

  /** An answer's parsed JSON as a payload: an object, not nested too deep, frozen. */
  protected frozenPayload(parsed: unknown): IntrospectionPayload {
    if (!isJsonObject(parsed)) {
      throw this.client.failure('answered JSON that is not an object', OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE);
    }
    if (!freezeJson(parsed, MAX_PAYLOAD_DEPTH)) {
      throw this.client.failure(
        `answered JSON nested deeper than ${MAX_PAYLOAD_DEPTH} levels`,
        OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE,
      );
    }
    return parsed as IntrospectionPayload;
  }
}

/**
 * Deepest nesting accepted in an answer. Real introspection answers nest two or three levels
 * (`cnf`, `authorization_details`); a much deeper one is hostile or broken, and would overflow the
 * stack of whatever walks it recursively later (a JSON serializer of a shared cache, a JsonPath).
 */
const MAX_PAYLOAD_DEPTH = 32;

/** What an error status most often means, for the log line. */
const STATUS_HINTS: Readonly<Record<number, string>> = {
  401: ": the resource's client credentials were refused",
  403: ": the resource's client may not introspect",
  // Only a forward proxy answers 407 (an http:// server reached through the resource's proxy option).
  407: ': its proxy refused our credentials: check proxy.username and proxy.password',
  429: ': too many requests',
};
