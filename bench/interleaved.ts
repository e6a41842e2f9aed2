/**
 * The interleaved server-time ratio: requests alternate, one at a time on one kept-alive connection,
 * between a reference (a route the guard skips) and the same route guarded (a memory-cache hit), and
 * the application times each one itself (server-timing.ts). Because the two variants alternate request
 * by request, the machine's swings (a third of the absolute time between runs here) hit both alike; the
 * ratio of the medians, reference ÷ guarded, is the share of a guarded request's server time that is
 * not the guard's.
 */
import { Agent, request } from 'node:http';
import { VARIANT_HEADER, type ServerTimings, guardTimeKey } from './server-timing';

/** One request of a pair: how to send it, and the body every answer must have (any 200 when absent). */
export interface TimedRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  expectBody?: string;
}

/** One run's figures: median server times in microseconds, and their ratio (reference ÷ guarded). */
export interface InterleavedRun {
  referenceMicros: number;
  guardedMicros: number;
  ratio: number;
  pairs: number;
  /** With `--guard-time`: the median time spent in the guard itself, per variant (the reference's is its skip). */
  guardMicros?: { reference: number; guarded: number };
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function send(
  base: string,
  agent: Agent,
  spec: TimedRequest,
  variant?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = variant ? { ...spec.headers, [VARIANT_HEADER]: variant } : spec.headers;
    const req = request(`${base}${spec.path}`, { method: spec.method, agent, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${spec.method} ${spec.path} timed out`)));
    req.on('error', reject);
    req.end(spec.body);
  });
}

async function control(base: string, method: 'GET' | 'POST', path: string): Promise<string> {
  const { status, body } = await send(base, new Agent({ keepAlive: false }), { method, path, headers: {} });
  if (status >= 300) {
    throw new Error(`${method} ${path} answered ${status}`);
  }
  return body;
}

async function checked(base: string, agent: Agent, spec: TimedRequest, variant?: string): Promise<void> {
  const { status, body } = await send(base, agent, spec, variant);
  if (status !== 200 || (spec.expectBody !== undefined && body !== spec.expectBody)) {
    throw new Error(`${spec.method} ${spec.path} answered ${status} ${body.slice(0, 200)}`);
  }
}

/**
 * `pairs` pairs sent one request at a time, the order inside a pair alternating (AB, BA, …) so that
 * neither variant always follows the other, after as many unrecorded pairs to warm the JIT up.
 */
export async function measureInterleaved(
  base: string,
  reference: TimedRequest,
  guarded: TimedRequest,
  pairs: number,
): Promise<InterleavedRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let index = 0; index < pairs; index++) {
      await checked(base, agent, reference);
      await checked(base, agent, guarded);
    }
    await control(base, 'POST', '/__bench/server-timing/start');
    try {
      for (let index = 0; index < pairs; index++) {
        const [first, second] = index % 2 ? [guarded, reference] : [reference, guarded];
        await checked(base, agent, first, first === reference ? 'reference' : 'guarded');
        await checked(base, agent, second, second === reference ? 'reference' : 'guarded');
      }
    } finally {
      await control(base, 'POST', '/__bench/server-timing/stop');
    }
    const timings = JSON.parse(await control(base, 'GET', '/__bench/server-timing')) as ServerTimings;
    const referenceTimes = timings.reference ?? [];
    const guardedTimes = timings.guarded ?? [];
    if (referenceTimes.length !== pairs || guardedTimes.length !== pairs) {
      throw new Error(
        `server timing recorded ${referenceTimes.length} reference and ${guardedTimes.length} guarded requests of ${pairs} pairs`,
      );
    }
    const referenceMicros = median(referenceTimes) / 1000;
    const guardedMicros = median(guardedTimes) / 1000;
    const referenceGuard = timings[guardTimeKey('reference')];
    const guardedGuard = timings[guardTimeKey('guarded')];
    const guardMicros =
      referenceGuard?.length && guardedGuard?.length
        ? { reference: median(referenceGuard) / 1000, guarded: median(guardedGuard) / 1000 }
        : undefined;
    return { referenceMicros, guardedMicros, ratio: referenceMicros / guardedMicros, pairs, guardMicros };
  } finally {
    agent.destroy();
  }
}

/** The median run (by ratio) of several, and the range of their ratios. */
export function medianRun(runs: InterleavedRun[]): { median: InterleavedRun; range: [number, number] } {
  const sorted = [...runs].sort((a, b) => a.ratio - b.ratio);
  return {
    median: sorted[Math.floor((sorted.length - 1) / 2)],
    range: [sorted[0].ratio, sorted[sorted.length - 1].ratio],
  };
}
