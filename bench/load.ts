/**
 * One autocannon run, in its own process (so load generation does not share the orchestrator's or
 * the application's event loop). Argument: a JSON object of autocannon options. Prints the result
 * as JSON. `idReplacement` turns `[<id>]` in a header into a fresh id per request.
 */
// autocannon ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: object) => Promise<object>;

void autocannon(JSON.parse(process.argv[2] ?? '{}') as object).then((result) => {
  process.stdout.write(JSON.stringify(result));
});
