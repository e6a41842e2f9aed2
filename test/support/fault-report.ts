import { appendFileSync } from 'node:fs';

/**
 * Measured figures of the reliability tests (time of each fault, memory of the huge answer). They are
 * asserted against bounds in the tests; with `OAUTH2_TEST_REPORT=<file>` in the environment they are
 * also appended to that file, one JSON line each, for a person to read.
 */
export function reportFigure(figure: Record<string, unknown>): void {
  const file = process.env.OAUTH2_TEST_REPORT;
  if (file) {
    appendFileSync(file, `${JSON.stringify(figure)}\n`);
  }
}

/** Milliseconds a promise took, and its value. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = process.hrtime.bigint();
  const value = await work();
  return { value, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

/**
 * Samples the process's memory while `work` runs: the highest `arrayBuffers` (where Buffers live) and
 * heap seen, above what they were before. A coarse upper bound: other work of the process counts too.
 */
export async function peakMemoryDuring<T>(
  work: () => Promise<T>,
): Promise<{ value: T; arrayBuffersMiB: number; heapMiB: number }> {
  const before = process.memoryUsage();
  let peakArrayBuffers = before.arrayBuffers;
  let peakHeap = before.heapUsed;
  const sample = () => {
    const now = process.memoryUsage();
    peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  };
  const sampler = setInterval(sample, 2);
  try {
    const value = await work();
    sample();
    const mib = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 100) / 100;
    return {
      value,
      arrayBuffersMiB: mib(peakArrayBuffers - before.arrayBuffers),
      heapMiB: mib(peakHeap - before.heapUsed),
    };
  } finally {
    clearInterval(sampler);
  }
}
