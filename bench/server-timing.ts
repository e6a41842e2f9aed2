/**
 * Server time per request, measured inside the application: from the Node server's `request` event
 * (a listener put before the framework's) to the response's `finish`. Requests carry a variant label
 * in the `x-bench-variant` header; durations are kept per label until the orchestrator reads them.
 * With `--guard-time`, the application also reports the time spent in `OAuth2Guard.canActivate` (its
 * synchronous part) per labelled request, under `<label> guard`.
 *
 * Why inside the server: on two cores the load generator and the kernel dominate a 20 µs request, so a
 * throughput ratio hides what the guard costs; the time the server spends on one request does not.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** The header that names a request's variant; requests without it are not timed. */
export const VARIANT_HEADER = 'x-bench-variant';

/** The durations recorded so far, in nanoseconds, by variant. */
export type ServerTimings = Record<string, number[]>;

/** The key of a variant's guard times among the {@link ServerTimings}, when the guard is timed. */
export function guardTimeKey(variant: string): string {
  return `${variant} guard`;
}

/** The request being timed, and its guard's time so far (the guard may run more than once on a GraphQL query). */
interface CurrentRequest {
  readonly variant: string;
  guardNanos: number;
  guardCalls: number;
}

/** Starts and stops recording on one server; {@link take} hands the durations over and clears them. */
export class ServerTimingRecorder {
  private durations: ServerTimings = {};
  /**
   * The labelled request in flight: the interleaved pairs send one request at a time, so the guard's
   * time can be told to it without marking the request (which would change what is measured).
   */
  private current: CurrentRequest | undefined;
  private readonly listener = (request: IncomingMessage, response: ServerResponse): void => {
    const variant = request.headers[VARIANT_HEADER];
    if (typeof variant !== 'string') {
      return;
    }
    const current: CurrentRequest = { variant, guardNanos: 0, guardCalls: 0 };
    this.current = current;
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      (this.durations[variant] ??= []).push(Number(process.hrtime.bigint() - started));
      if (current.guardCalls > 0) {
        (this.durations[guardTimeKey(variant)] ??= []).push(current.guardNanos);
      }
      if (this.current === current) {
        this.current = undefined;
      }
    });
  };

  constructor(private readonly server: Server) {}

  /** Times every labelled request from now on; idempotent. */
  start(): void {
    if (!this.server.listeners('request').includes(this.listener)) {
      // First among the listeners: Express's and Fastify's handlers are registered when the server is created.
      this.server.prependListener('request', this.listener);
    }
  }

  /** Stops timing (the throughput scenarios run without the listener). */
  stop(): void {
    this.server.removeListener('request', this.listener);
  }

  /** Adds a guard call's time (nanoseconds) to the labelled request in flight, if there is one. */
  guardTime(nanos: number): void {
    const current = this.current;
    if (current !== undefined) {
      current.guardNanos += nanos;
      current.guardCalls += 1;
    }
  }

  /** The durations recorded since the last call. */
  take(): ServerTimings {
    const taken = this.durations;
    this.durations = {};
    return taken;
  }
}
