/**
 * Server time per request, measured inside the application: from the Node server's `request` event
 * (a listener put before the framework's) to the response's `finish`. Requests carry a variant label
 * in the `x-bench-variant` header; durations are kept per label until the orchestrator reads them.
 *
 * Why inside the server: on two cores the load generator and the kernel dominate a 20 µs request, so a
 * throughput ratio hides what the guard costs; the time the server spends on one request does not.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** The header that names a request's variant; requests without it are not timed. */
export const VARIANT_HEADER = 'x-bench-variant';

/** The durations recorded so far, in nanoseconds, by variant. */
export type ServerTimings = Record<string, number[]>;

/** Starts and stops recording on one server; {@link take} hands the durations over and clears them. */
export class ServerTimingRecorder {
  private durations: ServerTimings = {};
  private readonly listener = (request: IncomingMessage, response: ServerResponse): void => {
    const variant = request.headers[VARIANT_HEADER];
    if (typeof variant !== 'string') {
      return;
    }
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      (this.durations[variant] ??= []).push(Number(process.hrtime.bigint() - started));
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

  /** The durations recorded since the last call. */
  take(): ServerTimings {
    const taken = this.durations;
    this.durations = {};
    return taken;
  }
}
