/**
 * One autocannon run, in its own process (so load generation does not share the orchestrator's or
 * the application's event loop). Argument: a JSON object of autocannon options, plus `tokenPool`:
 * tokens to send in turn, one per request, so that concurrent requests carry different tokens (as
 * real clients do) and none can share another's cache read; and `expectBody`: the exact body every
 * response must have (autocannon's own option cannot be combined with `requests`), any other counted
 * in `mismatches`. Prints the result as JSON.
 */
// autocannon ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: object) => Promise<object>;

interface LoadOptions {
  tokenPool?: string[];
  expectBody?: string;
  [option: string]: unknown;
}

const { tokenPool, expectBody, ...options } = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
let next = 0;
let mismatches = 0;
const requests = tokenPool?.length
  ? [
      {
        setupRequest: (request: { headers?: Record<string, string> }) => {
          const token = tokenPool[next++ % tokenPool.length];
          return { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
        },
        ...(expectBody !== undefined && {
          onResponse: (_status: number, body: string) => {
            if (body !== expectBody) {
              mismatches++;
            }
          },
        }),
      },
    ]
  : undefined;
if (expectBody !== undefined && !requests) {
  throw new Error('expectBody needs a tokenPool');
}

void autocannon({ ...options, ...(requests ? { requests } : {}) }).then((result) => {
  process.stdout.write(JSON.stringify(expectBody === undefined ? result : { ...result, mismatches }));
});
