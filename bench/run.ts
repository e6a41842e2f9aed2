/**
 * `npm run bench [-- --quick] [-- --no-redis] [-- --server-time] [-- --adapter=fastify] [-- --node=24]`: what the guard
 * costs per request, side by side with the unguarded route, and how hard it hits the authorization server.
 *
 * Four processes, so that load generation does not share an event loop with what it measures: this
 * orchestrator, the authorization server, the application (Express, then Fastify), and autocannon.
 * Each round brackets every scenario between two runs of the unguarded route, and a scenario's
 * ratio is paired with those neighbours, so that the drift of this shared machine cancels; each
 * figure is the median of the rounds. The GraphQL pair (the same query unguarded and behind the guard
 * with a memory-cache hit; Apollo on Express, Mercurius on Fastify) is bracketed the same way, against
 * the unguarded GraphQL query. Prints tables and writes the raw figures to
 * bench/results/<date>[-quick].json.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer, connect } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { measureDpopCost } from './dpop-micro';
import { measureGuardHit } from './guard-micro';
import { type InterleavedRun, type TimedRequest, measureInterleaved, median, medianRun } from './interleaved';
import { measureTelemetryCost } from './telemetry-micro';
import { pinnedNodeBinary } from './pinned-node';

const ROOT = join(__dirname, '..', '..');
const QUICK = process.argv.includes('--quick');
/**
 * `--guard-time`: `--server-time`, with the application timing `OAuth2Guard.canActivate` itself on each
 * request: the guard's own microseconds beside the ratio. The timer costs both variants a call and
 * two clock reads, so its ratios are not comparable with those of runs without it.
 */
const GUARD_TIME = process.argv.includes('--guard-time');
/** `--server-time`: only the interleaved server-time ratios (a minute or two), for work on the hit path. */
const SERVER_TIME_ONLY = process.argv.includes('--server-time') || GUARD_TIME;
/**
 * `--http-only`, with `--server-time`: the HTTP pair alone, without the GraphQL one (half the time, and no
 * GraphQL run between two HTTP runs to cool the caches): the runs that `npm run bench:ab` alternates.
 */
const SERVER_TIME_KINDS: readonly ServerTimeKind[] =
  SERVER_TIME_ONLY && process.argv.includes('--http-only') ? ['http'] : ['http', 'graphql'];
/** `--adapter=express` or `--adapter=fastify`: that adapter alone; both by default. */
const ADAPTERS = (['express', 'fastify'] as const).filter((adapter) =>
  process.argv.every((arg) => !arg.startsWith('--adapter=') || arg === `--adapter=${adapter}`),
);
/**
 * `--node=<major>` (20, 22 or 24): the application and the authorization server run on the release of
 * that major that scripts/node-binaries.mjs pins (installed from npm on first use, as the test legs do),
 * not on the Node.js that runs this script. Nest 12's users run Node 22 or 24, where Express answers in
 * well under half the time it takes on Node 20, so the same guard is a larger share of the request. The
 * in-process micro-benchmarks and the load generator stay on this script's Node.
 */
const SERVER_NODE = serverNode(process.argv.find((arg) => arg.startsWith('--node='))?.slice('--node='.length));
const ROUNDS = QUICK ? 1 : 5;
const SECONDS = QUICK ? 1.5 : 4;
const CONNECTIONS = 32;
const BURST = 1000;
const SPRAY = QUICK ? 5_000 : 20_000;
/** The interleaved server-time runs per pair (their median is the figure), and the pairs per run. */
const TIMING_RUNS = QUICK ? 1 : 3;
const TIMING_PAIRS = QUICK ? 1_000 : 4_000;
/** Issue 18's targets for the interleaved ratio (reference ÷ guarded server time), by adapter. */
const SERVER_TIME_TARGETS = { express: 0.97, fastify: 0.9 } as const;
/**
 * The tokens of the cache-hit scenarios: many, sent in turn, so that the 32 requests in flight carry
 * different tokens. With one token, concurrent requests would share one cache read (single-flight),
 * which flatters a Redis cache.
 */
const HIT_TOKENS = Array.from(
  { length: 1000 },
  (_, index) => `bench-token-${String(index).padStart(4, '0')}-0123456789abcdef0123456789`,
);

type HttpScenario = 'unguarded' | 'noop' | 'memory' | 'redis' | 'nocache';
type ServerTimeKind = 'http' | 'graphql';
type GraphQLScenario = 'graphql-unguarded' | 'graphql-memory';
type Scenario = HttpScenario | GraphQLScenario;
interface LoadFigures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Responses other than 2xx, errors, and (GraphQL) bodies other than the expected answer. */
  non2xx: number;
}
interface ScenarioFigures extends LoadFigures {
  /** The median of the paired ratios against {@link baseline}, and the lowest and highest of them. */
  ratio: number;
  ratioRange: [number, number];
  /** The scenario run on either side of this one, which the ratio is taken against. */
  baseline: 'unguarded' | 'graphql-unguarded';
  rounds: LoadFigures[];
}
/** The interleaved server-time ratio of one pair: every run, the median run and the range of the ratios. */
interface ServerTimeFigures {
  reference: string;
  guarded: string;
  ratio: number;
  ratioRange: [number, number];
  referenceMicros: number;
  guardedMicros: number;
  /** With `--guard-time`: the median run's time in the guard itself, per variant. */
  guardMicros?: { reference: number; guarded: number };
  runs: InterleavedRun[];
}
interface AdapterFigures {
  /** Server time inside the application, the guarded request against the skipped one, alternating. */
  serverTime: { http: ServerTimeFigures; graphql?: ServerTimeFigures };
  scenarios: Partial<Record<Scenario, ScenarioFigures>>;
  /** The GraphQL pair's verdict: `graphql-memory` against `graphql-unguarded`, paired per round. */
  graphql: {
    driver: 'apollo' | 'mercurius';
    label: 'GraphQL memory hit vs GraphQL unguarded';
    ratio: number;
    ratioRange: [number, number];
  };
  coldBurst: { requests: number; introspections: number; statuses: Record<string, number> };
  tokenSpray: {
    requests: number;
    introspections: number;
    introspectionsPerRequest: number;
    bytesPerCachedEntry: number;
  };
}

const children: ChildProcess[] = [];

/** The binary and version of the Node.js the servers run on (see `--node`). */
function serverNode(major: string | undefined): { path: string; version: string } {
  if (major === undefined) {
    return { path: process.execPath, version: process.version };
  }
  const path = pinnedNodeBinary(ROOT, major);
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  return { path, version };
}

/**
 * With `taskset`, the application gets CPU 0 to itself and everything else (load generator,
 * authorization server, Redis) shares CPU 1: on two cores this halves the run-to-run noise.
 */
const PINNING = ((): boolean => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The command and arguments to run a program on one CPU, when pinning is possible. */
function pinned(cpu: 0 | 1, command: string, args: string[]): [string, string[]] {
  return PINNING ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
}

/** Starts a process that prints `READY <port>`; resolves with the port. */
async function startReady(
  args: string[],
  env: NodeJS.ProcessEnv,
  cpu: 0 | 1,
): Promise<{ child: ChildProcess; port: number }> {
  const [command, commandArgs] = pinned(cpu, SERVER_NODE.path, args);
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 30 s`)), 30_000);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { child, port };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, delay(5_000)]);
  child.kill('SIGKILL');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a private redis-server when the binary exists; `undefined` otherwise. */
async function startRedis(): Promise<string | undefined> {
  if (process.argv.includes('--no-redis')) {
    return undefined;
  }
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('redis-server not found: the Redis scenario is skipped (apt-get install redis-server)');
    return undefined;
  }
  const port = await freePort();
  const [command, args] = pinned(1, 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  const child = spawn(command, args, { stdio: 'ignore' });
  children.push(child);
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) {
      return `redis://127.0.0.1:${port}`;
    }
    await delay(50);
  }
  throw new Error('redis-server did not start within 5 s');
}

/** The queries of the GraphQL pair: the same object, unguarded and behind OAuth2Guard. */
const GRAPHQL_QUERIES: Record<GraphQLScenario, string> = {
  'graphql-unguarded': '{ unguardedOrder { ok } }',
  'graphql-memory': '{ memoryOrder { ok } }',
};

/** A GraphQL POST for autocannon: the query as a JSON body, and the exact answer expected. */
interface GraphQLLoad {
  query: string;
  expectBody: string;
}

/**
 * One autocannon run, in its own process. `tokens: 'unique'` gives every request a token never seen
 * (autocannon's `[<id>]` replacement), so that nothing is shared or cached; `'pool'` sends the
 * {@link HIT_TOKENS} in turn. With `graphql`, a POST of the query, and any answer other than
 * `expectBody` counts as a failure (autocannon's mismatches).
 */
function autocannon(url: string, tokens: 'unique' | 'pool', graphql?: GraphQLLoad): LoadFigures {
  const headers: Record<string, string> = tokens === 'unique' ? { authorization: 'Bearer bench-[<id>]' } : {};
  if (graphql) {
    headers['content-type'] = 'application/json';
  }
  const options = {
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers,
    idReplacement: tokens === 'unique',
    tokenPool: tokens === 'pool' ? HIT_TOKENS : undefined,
    ...(graphql && { method: 'POST', body: JSON.stringify({ query: graphql.query }), expectBody: graphql.expectBody }),
  };
  const [command, args] = pinned(1, process.execPath, [
    join('dist-bench', 'bench', 'load.js'),
    JSON.stringify(options),
  ]);
  const output = execFileSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: (SECONDS + 30) * 1000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = JSON.parse(output) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    mismatches?: number;
  };
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors + (result.mismatches ?? 0),
  };
}

function get(url: string, token: string | undefined, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers: token ? { authorization: `Bearer ${token}` } : {} }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** POSTs a GraphQL query, with `Authorization: Bearer <token>` when a token is given: the status and raw body. */
function postGraphQL(url: string, query: string, token: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }
    const req = request(url, { method: 'POST', agent: false, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`POST ${url} timed out`)));
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

/**
 * Checks the GraphQL endpoint before it is measured, and fails the benchmark otherwise: each query
 * answers `{ ok: true }` without errors (the guarded one with hit tokens), and the guarded query
 * without a token is rejected with `extensions.code` OAUTH2_MISSING_HEADER. Returns the exact body of
 * each query's answer, which every measured response must match.
 */
async function warmUpGraphQL(url: string, adapter: string): Promise<Record<GraphQLScenario, string>> {
  const fail = (text: string): never => {
    throw new Error(`GraphQL warm-up on ${adapter}: ${text}`);
  };
  const answers = {} as Record<GraphQLScenario, string>;
  for (const scenario of ['graphql-unguarded', 'graphql-memory'] as const) {
    const field = scenario === 'graphql-memory' ? 'memoryOrder' : 'unguardedOrder';
    // A few of the pool's tokens (all of them are in the memory cache since the HTTP warm-up, and the
    // guarded runs are checked for introspections); every answer must be the same.
    for (const token of HIT_TOKENS.slice(0, 5)) {
      const { status, body } = await postGraphQL(url, GRAPHQL_QUERIES[scenario], token);
      const parsed = JSON.parse(body) as { data?: Record<string, { ok?: unknown } | null> | null; errors?: unknown[] };
      if (status !== 200 || parsed.errors?.length || parsed.data?.[field]?.ok !== true) {
        fail(`${GRAPHQL_QUERIES[scenario]} answered ${status} ${body}`);
      }
      if (answers[scenario] !== undefined && answers[scenario] !== body) {
        fail(`${GRAPHQL_QUERIES[scenario]} answered ${body}, then ${answers[scenario]}`);
      }
      answers[scenario] = body;
    }
  }
  const { status, body } = await postGraphQL(url, GRAPHQL_QUERIES['graphql-memory'], undefined);
  const parsed = JSON.parse(body) as {
    data?: { memoryOrder?: unknown } | null;
    errors?: { extensions?: { code?: unknown } }[];
  };
  if (parsed.errors?.[0]?.extensions?.code !== 'OAUTH2_MISSING_HEADER' || parsed.data?.memoryOrder) {
    fail(`the guarded query without a token was not rejected with OAUTH2_MISSING_HEADER: ${status} ${body}`);
  }
  return answers;
}

/** A control call (stats, reset, heap) on a connection of its own: no kept-alive socket to go stale. */
function getJson<T>(url: string, method = 'GET'): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve((body ? JSON.parse(body) : undefined) as T));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** `concurrency` workers sending `total` requests, each with its own token. */
async function spray(url: string, total: number, concurrency: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const index = next++;
        await get(url, `spray-${index}-${'x'.repeat(32)}`, agent);
      }
    }),
  );
  agent.destroy();
}

/** A GraphQL POST of `query` for the interleaved pairs, whose every answer must be `expectBody`. */
function graphqlRequest(query: string, token: string, expectBody: string): TimedRequest {
  return {
    method: 'POST',
    path: '/graphql',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
    expectBody,
  };
}

/**
 * The interleaved server-time ratio (bench/interleaved.ts), HTTP and GraphQL runs alternating: GET
 * /skipped against GET /memory, and the `skippedOrder` query against `memoryOrder`. Both requests of a
 * pair carry the same (cached) token, so that they differ only in what the guard does with it.
 */
async function measureServerTime(base: string, adapter: string): Promise<AdapterFigures['serverTime']> {
  const token = HIT_TOKENS[0];
  const get = (path: string): TimedRequest => ({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } });
  const answer = async (query: string): Promise<string> => {
    const { status, body } = await postGraphQL(`${base}/graphql`, query, token);
    if (status !== 200 || !body.includes('"ok":true') || body.includes('"errors"')) {
      throw new Error(`GraphQL warm-up on ${adapter}: ${query} answered ${status} ${body}`);
    }
    return body;
  };
  const skippedQuery = '{ skippedOrder { ok } }';
  const memoryQuery = GRAPHQL_QUERIES['graphql-memory'];
  const withGraphQL = SERVER_TIME_KINDS.includes('graphql');
  const pairs = {
    http: { reference: get('/skipped'), guarded: get('/memory') },
    graphql: withGraphQL
      ? {
          reference: graphqlRequest(skippedQuery, token, await answer(skippedQuery)),
          guarded: graphqlRequest(memoryQuery, token, await answer(memoryQuery)),
        }
      : undefined,
  };
  const runs: Record<ServerTimeKind, InterleavedRun[]> = { http: [], graphql: [] };
  for (let round = 0; round < TIMING_RUNS; round++) {
    for (const kind of SERVER_TIME_KINDS) {
      const pair = pairs[kind]!;
      const run = await measureInterleaved(base, pair.reference, pair.guarded, TIMING_PAIRS);
      runs[kind].push(run);
      const guardTime = run.guardMicros
        ? `; in the guard: skipped ${run.guardMicros.reference.toFixed(2)} µs, guarded ${run.guardMicros.guarded.toFixed(2)} µs`
        : '';
      console.log(
        `  ${adapter} server time ${kind} run ${round + 1}: skipped ${run.referenceMicros.toFixed(1)} µs, guarded ${run.guardedMicros.toFixed(1)} µs, ratio ${run.ratio.toFixed(3)}${guardTime}`,
      );
    }
  }
  const summary = (kind: ServerTimeKind, reference: string, guarded: string): ServerTimeFigures => {
    const { median: middle, range } = medianRun(runs[kind]);
    return {
      reference,
      guarded,
      ratio: middle.ratio,
      ratioRange: range,
      referenceMicros: middle.referenceMicros,
      guardedMicros: middle.guardedMicros,
      guardMicros: middle.guardMicros,
      runs: runs[kind],
    };
  };
  return {
    http: summary('http', 'GET /skipped', 'GET /memory'),
    graphql: withGraphQL ? summary('graphql', skippedQuery, memoryQuery) : undefined,
  };
}

/** `--server-time`: the application of one adapter, its two routes warmed up, and the interleaved runs alone. */
async function measureServerTimeOnly(
  adapter: 'express' | 'fastify',
  asUrl: string,
): Promise<AdapterFigures['serverTime']> {
  const { child, port } = await startReady(
    ['--expose-gc', join('dist-bench', 'bench', 'bench-app.js')],
    { ADAPTER: adapter, AS_URL: asUrl, REDIS_URL: '', GUARD_TIME: GUARD_TIME ? '1' : '' },
    0,
  );
  const base = `http://127.0.0.1:${port}`;
  const warmAgent = new Agent({ keepAlive: true });
  for (const path of ['/skipped', '/memory']) {
    const status = await get(`${base}${path}`, HIT_TOKENS[0], warmAgent);
    if (status !== 200) {
      throw new Error(`warm-up of ${path} on ${adapter} answered ${status}`);
    }
  }
  warmAgent.destroy();
  try {
    return await measureServerTime(base, adapter);
  } finally {
    await stop(child);
  }
}

async function measureAdapter(
  adapter: 'express' | 'fastify',
  asUrl: string,
  redisUrl: string | undefined,
): Promise<AdapterFigures> {
  const { child, port } = await startReady(
    ['--expose-gc', join('dist-bench', 'bench', 'bench-app.js')],
    { ADAPTER: adapter, AS_URL: asUrl, REDIS_URL: redisUrl ?? '' },
    0,
  );
  const base = `http://127.0.0.1:${port}`;
  // The quick mode leaves out the no-op guard, a reference rather than a target, to stay under a minute.
  const scenarios = (['unguarded', 'noop', 'memory', 'redis', 'nocache'] as const).filter(
    (scenario) => !(scenario === 'redis' && !redisUrl) && !(scenario === 'noop' && QUICK),
  );
  // Warm-up: every route once, and every hit token into the caches.
  const warmAgent = new Agent({ keepAlive: true });
  for (const scenario of scenarios) {
    const tokens = scenario === 'memory' || scenario === 'redis' ? HIT_TOKENS : [HIT_TOKENS[0]];
    for (const token of tokens) {
      const status = await get(`${base}/${scenario}`, token, warmAgent);
      if (status !== 200) {
        throw new Error(`warm-up of /${scenario} on ${adapter} answered ${status}`);
      }
    }
  }
  warmAgent.destroy();
  const graphqlUrl = `${base}/graphql`;
  const graphqlAnswers = await warmUpGraphQL(graphqlUrl, adapter);
  const serverTime = await measureServerTime(base, adapter);

  // Each round brackets every scenario between two runs of the unguarded baseline (U A U B U C ...),
  // and a scenario's ratio is taken against the mean of the two runs on either side of it: the speed
  // of this shared machine drifts over seconds, and a baseline measured just before and just after
  // cancels a steady drift, where one measured a minute away does not.
  const measured = scenarios.filter((scenario) => scenario !== 'unguarded');
  const rounds: Partial<Record<Scenario, LoadFigures[]>> = {};
  const ratios: Partial<Record<Scenario, number[]>> = Object.fromEntries(
    [...scenarios, 'graphql-memory'].map((scenario) => [scenario, []]),
  );
  const run = (scenario: Scenario, round: number): LoadFigures => {
    // The same requests for every scenario but `nocache`, the route aside: on two cores the load
    // generator is near its own limit, so how it builds requests must not differ between them. The
    // GraphQL pair likewise sends the same POSTs (the same tokens), the query aside.
    const figures =
      scenario === 'graphql-unguarded' || scenario === 'graphql-memory'
        ? autocannon(graphqlUrl, 'pool', { query: GRAPHQL_QUERIES[scenario], expectBody: graphqlAnswers[scenario] })
        : autocannon(`${base}/${scenario}`, scenario === 'nocache' ? 'unique' : 'pool');
    (rounds[scenario] ??= []).push(figures);
    console.log(
      `  ${adapter} round ${round + 1} ${scenario}: ${Math.round(figures.requestsPerSecond)} req/s, p99 ${figures.p99} ms`,
    );
    return figures;
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round, so that no scenario always comes first or last.
    const order = measured.map((_, index) => measured[(index + round) % measured.length]);
    let before = run('unguarded', round);
    for (const scenario of order) {
      const figures = run(scenario, round);
      const after = run('unguarded', round);
      ratios[scenario]!.push(figures.requestsPerSecond / ((before.requestsPerSecond + after.requestsPerSecond) / 2));
      before = after;
    }
    // The GraphQL pair, bracketed the same way against its own baseline: the guarded query between
    // two runs of the unguarded one. The guarded runs must be memory-cache hits: no introspection.
    const graphqlBefore = run('graphql-unguarded', round);
    const introspectionsBefore = (await getJson<{ introspections: number }>(`${asUrl}/stats`)).introspections;
    const guarded = run('graphql-memory', round);
    const introspected =
      (await getJson<{ introspections: number }>(`${asUrl}/stats`)).introspections - introspectionsBefore;
    if (introspected !== 0) {
      throw new Error(`graphql-memory on ${adapter} was not all memory-cache hits: ${introspected} introspections`);
    }
    const graphqlAfter = run('graphql-unguarded', round);
    ratios['graphql-memory']!.push(
      guarded.requestsPerSecond / ((graphqlBefore.requestsPerSecond + graphqlAfter.requestsPerSecond) / 2),
    );
  }
  const figures: AdapterFigures['scenarios'] = {};
  for (const scenario of [...scenarios, 'graphql-unguarded', 'graphql-memory'] as const) {
    const runs = rounds[scenario]!;
    const baseline = scenario.startsWith('graphql-') ? 'graphql-unguarded' : 'unguarded';
    const paired = scenario === baseline ? [1] : ratios[scenario]!;
    const failures = runs.reduce((sum, one) => sum + one.non2xx, 0);
    if (failures && scenario.startsWith('graphql-')) {
      // A GraphQL error comes back with status 200 (Apollo): a failed guarded query would otherwise
      // measure as a fast success.
      throw new Error(`${scenario} on ${adapter}: ${failures} responses were not the expected answer`);
    }
    figures[scenario] = {
      requestsPerSecond: median(runs.map((one) => one.requestsPerSecond)),
      p50: median(runs.map((one) => one.p50)),
      p99: median(runs.map((one) => one.p99)),
      non2xx: failures,
      ratio: median(paired),
      ratioRange: [Math.min(...paired), Math.max(...paired)],
      baseline,
      rounds: runs,
    };
  }

  // Cold burst: BURST requests at once with one token the cache has never seen.
  await getJson(`${asUrl}/reset`, 'POST');
  const burstAgent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const coldToken = `cold-${adapter}-${Date.now()}`;
  const statuses = await Promise.all(Array.from({ length: BURST }, () => get(`${base}/memory`, coldToken, burstAgent)));
  burstAgent.destroy();
  const burstIntrospections = (await getJson<{ introspections: number }>(`${asUrl}/stats`)).introspections;
  const statusCounts: Record<string, number> = {};
  for (const status of statuses) {
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
  }

  // Token spray: distinct tokens, each introspected once and cached; heap growth per entry.
  const heapBefore = (await getJson<{ heapUsed: number }>(`${base}/__bench/heap`)).heapUsed;
  await getJson(`${asUrl}/reset`, 'POST');
  await spray(`${base}/memory`, SPRAY, CONNECTIONS);
  const sprayIntrospections = (await getJson<{ introspections: number }>(`${asUrl}/stats`)).introspections;
  const heapAfter = (await getJson<{ heapUsed: number }>(`${base}/__bench/heap`)).heapUsed;

  await stop(child);
  const graphqlMemory = figures['graphql-memory']!;
  return {
    serverTime,
    scenarios: figures,
    graphql: {
      driver: adapter === 'fastify' ? 'mercurius' : 'apollo',
      label: 'GraphQL memory hit vs GraphQL unguarded',
      ratio: graphqlMemory.ratio,
      ratioRange: graphqlMemory.ratioRange,
    },
    coldBurst: { requests: BURST, introspections: burstIntrospections, statuses: statusCounts },
    tokenSpray: {
      requests: SPRAY,
      introspections: sprayIntrospections,
      introspectionsPerRequest: sprayIntrospections / SPRAY,
      bytesPerCachedEntry: Math.round((heapAfter - heapBefore) / SPRAY),
    },
  };
}

function table(results: Record<string, AdapterFigures>): string {
  const lines = [
    `| platform | server time, interleaved (median of ${TIMING_RUNS}) | skipped µs | guarded µs | ratio (range) |`,
    '|---|---|---:|---:|---:|',
  ];
  for (const [adapter, figures] of Object.entries(results)) {
    for (const kind of ['http', 'graphql'] as const) {
      const run = figures.serverTime[kind];
      if (run === undefined) {
        continue;
      }
      const label = kind === 'http' ? 'HTTP GET' : `GraphQL (${figures.graphql.driver})`;
      lines.push(
        `| ${adapter} | ${label} | ${run.referenceMicros.toFixed(1)} | ${run.guardedMicros.toFixed(1)} | ${run.ratio.toFixed(3)} (${run.ratioRange[0].toFixed(3)}–${run.ratioRange[1].toFixed(3)}) |`,
      );
    }
  }
  lines.push(
    '',
    '| platform | scenario | req/s | p50 ms | p99 ms | vs unguarded (range) | added p99 ms |',
    '|---|---|---:|---:|---:|---:|---:|',
  );
  for (const [adapter, figures] of Object.entries(results)) {
    const baseline = figures.scenarios.unguarded!;
    for (const [scenario, run] of Object.entries(figures.scenarios)) {
      if (run!.baseline !== 'unguarded') {
        continue;
      }
      const ratio = run!.ratio;
      lines.push(
        `| ${adapter} | ${scenario} | ${Math.round(run!.requestsPerSecond)} | ${run!.p50} | ${run!.p99} | ${ratio.toFixed(2)}${scenario === 'unguarded' ? '' : ` (${run!.ratioRange[0].toFixed(2)}–${run!.ratioRange[1].toFixed(2)})`} | ${(run!.p99 - baseline.p99).toFixed(0)} |`,
      );
    }
  }
  lines.push(
    '',
    '| platform | GraphQL driver | query | req/s | p50 ms | p99 ms | vs GraphQL unguarded (range) | added p99 ms |',
    '|---|---|---|---:|---:|---:|---:|---:|',
  );
  for (const [adapter, figures] of Object.entries(results)) {
    const baseline = figures.scenarios['graphql-unguarded']!;
    for (const scenario of ['graphql-unguarded', 'graphql-memory'] as const) {
      const run = figures.scenarios[scenario]!;
      lines.push(
        `| ${adapter} | ${figures.graphql.driver} | ${scenario} | ${Math.round(run.requestsPerSecond)} | ${run.p50} | ${run.p99} | ${run.ratio.toFixed(2)}${scenario === 'graphql-unguarded' ? '' : ` (${run.ratioRange[0].toFixed(2)}–${run.ratioRange[1].toFixed(2)})`} | ${(run.p99 - baseline.p99).toFixed(0)} |`,
      );
    }
  }
  lines.push(
    '',
    '| platform | cold burst: requests → introspections | token spray: introspections per request | heap per cached entry |',
    '|---|---|---|---:|',
  );
  for (const [adapter, figures] of Object.entries(results)) {
    lines.push(
      `| ${adapter} | ${figures.coldBurst.requests} → ${figures.coldBurst.introspections} | ${figures.tokenSpray.introspectionsPerRequest.toFixed(2)} (${figures.tokenSpray.requests} tokens) | ${figures.tokenSpray.bytesPerCachedEntry} B |`,
    );
  }
  return lines.join('\n');
}

function targets(results: Record<string, AdapterFigures>): string[] {
  const verdicts: string[] = [];
  for (const [adapter, figures] of Object.entries(results)) {
    const base = figures.scenarios.unguarded!;
    const memory = figures.scenarios.memory!;
    const redis = figures.scenarios.redis;
    const check = (ok: boolean, text: string) => verdicts.push(`${ok ? 'met   ' : 'MISSED'} ${adapter}: ${text}`);
    const serverTime = figures.serverTime.http;
    const target = SERVER_TIME_TARGETS[adapter as keyof typeof SERVER_TIME_TARGETS];
    check(
      serverTime.ratio >= target,
      `interleaved server time, skipped ÷ guarded ≥ ${target.toFixed(2)} (${serverTime.ratio.toFixed(3)}, median of ${TIMING_RUNS})`,
    );
    check(memory.ratio >= 0.9, `memory hit ≥ 0.90 of unguarded (${memory.ratio.toFixed(2)})`);
    check(
      memory.p99 - base.p99 < 1,
      `memory hit adds < 1 ms p99 (${memory.p99 - base.p99} ms; autocannon's resolution is 1 ms)`,
    );
    if (redis) {
      check(redis.ratio >= 0.6, `Redis hit ≥ 0.60 of unguarded (${redis.ratio.toFixed(2)})`);
    }
    check(
      figures.coldBurst.introspections === 1,
      `cold burst of ${figures.coldBurst.requests} → 1 introspection (${figures.coldBurst.introspections})`,
    );
  }
  return verdicts;
}

/** `--server-time`: the interleaved ratios of both adapters, their table and their targets. */
async function serverTimeOnly(): Promise<void> {
  const { port: asPort } = await startReady([join('dist-bench', 'bench', 'bench-authorization-server.js')], {}, 1);
  const guardColumns = GUARD_TIME
    ? ' in the guard, skipped µs | in the guard, guarded µs | guard ÷ guarded request |'
    : '';
  const lines = [
    `| platform | server time, interleaved (median of ${TIMING_RUNS}) | skipped µs | guarded µs | ratio (range) |${guardColumns}`,
    `|---|---|---:|---:|---:|${GUARD_TIME ? '---:|---:|---:|' : ''}`,
  ];
  const verdicts: string[] = [];
  for (const adapter of ADAPTERS) {
    const serverTime = await measureServerTimeOnly(adapter, `http://127.0.0.1:${asPort}`);
    for (const kind of SERVER_TIME_KINDS) {
      const run = serverTime[kind]!;
      const guard = run.guardMicros
        ? ` ${run.guardMicros.reference.toFixed(2)} | ${run.guardMicros.guarded.toFixed(2)} | ${((100 * run.guardMicros.guarded) / run.guardedMicros).toFixed(1)}% |`
        : '';
      lines.push(
        `| ${adapter} | ${run.reference} → ${run.guarded} | ${run.referenceMicros.toFixed(1)} | ${run.guardedMicros.toFixed(1)} | ${run.ratio.toFixed(3)} (${run.ratioRange[0].toFixed(3)}–${run.ratioRange[1].toFixed(3)}) |${guard}`,
      );
    }
    const target = SERVER_TIME_TARGETS[adapter];
    const ratio = serverTime.http.ratio;
    verdicts.push(
      `${ratio >= target ? 'met   ' : 'MISSED'} ${adapter}: interleaved server time, skipped ÷ guarded ≥ ${target.toFixed(2)} (${ratio.toFixed(3)}, median of ${TIMING_RUNS})`,
    );
  }
  const timed = GUARD_TIME
    ? '\n(--guard-time: both variants carry the guard timer, so these ratios are not comparable with runs without it)'
    : '';
  console.log(`\n${lines.join('\n')}\n\n${verdicts.join('\n')}${timed}\n(servers on Node ${SERVER_NODE.version})`);
}

async function main(): Promise<void> {
  if (SERVER_TIME_ONLY) {
    return serverTimeOnly();
  }
  const started = Date.now();
  console.log(
    `benchmark${QUICK ? ' (quick)' : ''}: ${ROUNDS} round(s) of ${SECONDS} s per scenario, ${CONNECTIONS} connections`,
  );
  const { port: asPort } = await startReady([join('dist-bench', 'bench', 'bench-authorization-server.js')], {}, 1);
  const asUrl = `http://127.0.0.1:${asPort}`;
  const redisUrl = await startRedis();
  const results: Record<string, AdapterFigures> = {};
  for (const adapter of ADAPTERS) {
    results[adapter] = await measureAdapter(adapter, asUrl, redisUrl);
  }
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    serverNode: SERVER_NODE.version,
  };
  const guardHit = await measureGuardHit(QUICK ? 50_000 : 200_000);
  const guardHitNanoseconds = { hot: Math.round(guardHit.hot), cold: Math.round(guardHit.cold) };
  const dpop = await measureDpopCost(QUICK ? 1000 : 5000);
  const dpopMicroseconds = {
    bearer: Number(dpop.bearer.toFixed(1)),
    ES256: Number(dpop.ES256.toFixed(1)),
    EdDSA: Number(dpop.EdDSA.toFixed(1)),
  };
  const telemetry = await measureTelemetryCost(QUICK ? 20_000 : 100_000, QUICK ? 3 : 5);
  const telemetryHitNanoseconds = {
    notLoaded: Math.round(telemetry.notLoaded),
    apiWithoutSdk: Math.round(telemetry.apiWithoutSdk),
    sdk: Math.round(telemetry.sdk),
  };
  const graphqlLines = Object.entries(results).map(
    ([adapter, figures]) =>
      `${figures.graphql.label}, ${adapter} (${figures.graphql.driver}): ${figures.graphql.ratio.toFixed(2)} (${figures.graphql.ratioRange[0].toFixed(2)}–${figures.graphql.ratioRange[1].toFixed(2)})`,
  );
  const report = {
    date: new Date().toISOString(),
    quick: QUICK,
    rounds: ROUNDS,
    secondsPerRun: SECONDS,
    connections: CONNECTIONS,
    pinned: PINNING,
    machine,
    guardHitNanoseconds,
    dpopMicroseconds,
    telemetryHitNanoseconds,
    results,
    targets: targets(results),
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${report.date.slice(0, 10)}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    `\n${table(results)}\n\n${graphqlLines.join('\n')}\n\nOAuth2Guard.canActivate alone, memory-cache hit: ${guardHitNanoseconds.hot} ns hot, ${guardHitNanoseconds.cold} ns with cold CPU caches\nDPoP (proof verified on every request), memory-cache hit: Bearer ${dpopMicroseconds.bearer} µs, DPoP ES256 ${dpopMicroseconds.ES256} µs, DPoP EdDSA ${dpopMicroseconds.EdDSA} µs\nthe same, hot, by telemetry: ${telemetryHitNanoseconds.notLoaded} ns without it, ${telemetryHitNanoseconds.apiWithoutSdk} ns with @opentelemetry/api and no SDK, ${telemetryHitNanoseconds.sdk} ns with the SDK\n\n${report.targets.join('\n')}\n\nmachine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node} (servers: Node ${machine.serverNode})`,
  );
  console.log(`raw figures: ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(children.map(stop));
  });
