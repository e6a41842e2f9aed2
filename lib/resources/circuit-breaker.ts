import type { Logger } from '@nestjs/common';

/** A resource's circuit breaker, defaults applied. */
export interface CircuitBreakerSettings {
  /** Consecutive failures (timeouts, connection errors, 5xx answers) that open the circuit. */
  readonly failureThreshold: number;
  /** Seconds the open circuit fails fast before it lets one probe through. */
  readonly coolDownSeconds: number;
}

/** Default consecutive failures that open a resource's circuit. */
export const DEFAULT_CIRCUIT_BREAKER_FAILURE_THRESHOLD = 10;
/** Default seconds an open circuit fails fast before its probe. */
export const DEFAULT_CIRCUIT_BREAKER_COOL_DOWN_SECONDS = 10;

/**
 * The permission to send one request. `probe` is set for the one request a half-open circuit lets
 * through; `generation` ties the request's outcome to the state it was admitted in.
 */
export interface CircuitTicket {
  readonly generation: number;
  readonly probe: boolean;
}

/** A circuit's state: `closed` sends requests, `open` fails them at once, `half-open` lets one probe through. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Stops sending requests to an authorization server that keeps failing: after `failureThreshold`
 * consecutive failures the circuit opens and every request fails at once, for `coolDownSeconds`; then
 * one request (the probe) goes through: its success closes the circuit, its failure opens it again.
 * Outcomes of requests admitted before a change of state are ignored: a slow request sent while the
 * circuit was closed does not decide for the probe. Each change of state is logged once.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private generation = 0;
  private probeInFlight = false;

  constructor(
    private readonly settings: CircuitBreakerSettings,
    private readonly resourceName: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A ticket for one request, or, when the circuit is open (or its probe is under way), the whole
   * seconds until a request may be sent again (at least 1).
   */
  admit(): CircuitTicket | { retryAfterSeconds: number } {
    if (this.state === 'open') {
      const left = this.openedAt + this.settings.coolDownSeconds * 1000 - this.now();
      if (left > 0) {
        return { retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) };
      }
      this.change('half-open');
      this.logger.log(
        `circuit of resource '${this.resourceName}' is half-open: one request is sent to the authorization server to test it`,
      );
    }
    if (this.state === 'half-open') {
      if (this.probeInFlight) {
        return { retryAfterSeconds: 1 };
      }
      this.probeInFlight = true;
      return { generation: this.generation, probe: true };
    }
    return { generation: this.generation, probe: false };
  }

  /** The circuit's state, for health checks; reading it changes nothing. */
  get currentState(): CircuitState {
    return this.state;
  }

  /** The server answered (with anything but a 5xx). */
  succeeded(ticket: CircuitTicket): void {
    if (ticket.generation !== this.generation) {
      return;
    }
    this.failures = 0;
    if (ticket.probe) {
      this.change('closed');
      this.logger.log(`circuit of resource '${this.resourceName}' is closed: the authorization server answers again`);
    }
  }

  /** The server failed: a timeout, a connection error, a 5xx answer. */
  failed(ticket: CircuitTicket): void {
    if (ticket.generation !== this.generation) {
      return;
    }
    if (ticket.probe) {
      this.open(`the test request failed`);
      return;
    }
    this.failures += 1;
    if (this.failures >= this.settings.failureThreshold) {
      this.open(`${this.failures} consecutive failures`);
    }
  }

  private open(why: string): void {
    this.change('open');
    this.openedAt = this.now();
    this.logger.warn(
      `circuit of resource '${this.resourceName}' is open after ${why}: requests fail at once, without calling the authorization server, for ${this.settings.coolDownSeconds} s`,
    );
  }

  private change(state: CircuitState): void {
    this.state = state;
    this.generation += 1;
    this.failures = 0;
    this.probeInFlight = false;
  }
}
