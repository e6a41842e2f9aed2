/**
 * `npm run bench [-- --quick] [-- --no-redis]`: what the guard costs per request, side by side with the unguarded
 * route, and how hard it hits the authorization server.
 *
 * Four processes, so that load generation does not share an event loop with what it measures: this
 * orchestrator, the authorization server, the application (Express, then Fastify), and autocannon.
 * Scenarios alternate within each round, so that the noise of this shared machine hits them alike;
 * each figure is the median of the rounds. Prints a table and writes the raw figures to
 * bench/results/<date>[-quick].json.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer, connect } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 1 : 3;
const SECONDS = QUICK ? 3 : 8;
const CONNECTIONS = 32;
const BURST = 1000;
const SPRAY = QUICK ? 5_000 : 20_000;
const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef';

type Scenario = 'unguarded' | 'memory' | 'redis' | 'nocache';
interface LoadFigures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
}
interface AdapterFigures {
  scenarios: Partial<Record<Scenario, LoadFigures & { rounds: LoadFigures[] }>>;
  coldBurst: { requests: number; introspections: number; statuses: Record<string, number> };
  tokenSpray: { requests: number; introspections: number; introspectionsPerRequest: number; bytesPerCachedEntry: number };
}

const children: ChildProcess[] = [];

/** Starts a process that prints `READY <port>`; resolves with the port. */
async function startReady(args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
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
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
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

/**
 * One autocannon run, in its own process. `token: 'unique'` gives every request its own token
 * (autocannon's `[<id>]` replacement), so that none is shared or cached.
 */
function autocannon(url: string, token: string | 'unique' | undefined): LoadFigures {
  const headers: Record<string, string> = {};
  if (token) {
    headers.authorization = `Bearer ${token === 'unique' ? 'bench-[<id>]' : token}`;
  }
  const options = { url, connections: CONNECTIONS, duration: SECONDS, headers, idReplacement: token === 'unique' };
  const output = execFileSync(process.execPath, [join('dist-bench', 'bench', 'load.js'), JSON.stringify(options)], {
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
  };
  return { requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx + result.errors };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
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

async function getJson<T>(url: string, method = 'GET'): Promise<T> {
  const response = await fetch(url, { method });
  return (method === 'GET' ? response.json() : undefined) as Promise<T>;
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

async function measureAdapter(adapter: 'express' | 'fastify', asUrl: string, redisUrl: string | undefined): Promise<AdapterFigures> {
  const { child, port } = await startReady(['--expose-gc', join('dist-bench', 'bench', 'bench-app.js')], {
    ADAPTER: adapter,
    AS_URL: asUrl,
    REDIS_URL: redisUrl ?? '',
  });
  const base = `http://127.0.0.1:${port}`;
  const scenarios: Scenario[] = redisUrl ? ['unguarded', 'memory', 'redis', 'nocache'] : ['unguarded', 'memory', 'nocache'];
  const warmAgent = new Agent({ keepAlive: true });
  for (const scenario of scenarios) {
    const status = await get(`${base}/${scenario}`, TOKEN, warmAgent);
    if (status !== 200) {
      throw new Error(`warm-up of /${scenario} on ${adapter} answered ${status}`);
    }
  }
  warmAgent.destroy();

  const rounds: Partial<Record<Scenario, LoadFigures[]>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round, so no scenario always runs first or last.
    const order = scenarios.map((_, index) => scenarios[(index + round) % scenarios.length]);
    for (const scenario of order) {
      const token = scenario === 'unguarded' ? undefined : scenario === 'nocache' ? 'unique' : TOKEN;
      const figures = autocannon(`${base}/${scenario}`, token);
      (rounds[scenario] ??= []).push(figures);
      console.log(`  ${adapter} round ${round + 1} ${scenario}: ${Math.round(figures.requestsPerSecond)} req/s, p99 ${figures.p99} ms`);
    }
  }
  const figures: AdapterFigures['scenarios'] = {};
  for (const scenario of scenarios) {
    const runs = rounds[scenario]!;
    figures[scenario] = {
      requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
      p50: median(runs.map((run) => run.p50)),
      p99: median(runs.map((run) => run.p99)),
      non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
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
  return {
    scenarios: figures,
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
    '| platform | scenario | req/s | p50 ms | p99 ms | vs unguarded | added p99 ms |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const [adapter, figures] of Object.entries(results)) {
    const baseline = figures.scenarios.unguarded!;
    for (const [scenario, run] of Object.entries(figures.scenarios)) {
      const ratio = run!.requestsPerSecond / baseline.requestsPerSecond;
      lines.push(
        `| ${adapter} | ${scenario} | ${Math.round(run!.requestsPerSecond)} | ${run!.p50} | ${run!.p99} | ${ratio.toFixed(2)} | ${(run!.p99 - baseline.p99).toFixed(0)} |`,
      );
    }
  }
  lines.push('', '| platform | cold burst: requests → introspections | token spray: introspections per request | heap per cached entry |', '|---|---|---|---:|');
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
    check(memory.requestsPerSecond / base.requestsPerSecond >= 0.9, `memory hit ≥ 0.90 of unguarded (${(memory.requestsPerSecond / base.requestsPerSecond).toFixed(2)})`);
    check(memory.p99 - base.p99 < 1, `memory hit adds < 1 ms p99 (${memory.p99 - base.p99} ms; autocannon's resolution is 1 ms)`);
    if (redis) {
      check(redis.requestsPerSecond / base.requestsPerSecond >= 0.6, `Redis hit ≥ 0.60 of unguarded (${(redis.requestsPerSecond / base.requestsPerSecond).toFixed(2)})`);
    }
    check(figures.coldBurst.introspections === 1, `cold burst of ${figures.coldBurst.requests} → 1 introspection (${figures.coldBurst.introspections})`);
  }
  return verdicts;
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`benchmark${QUICK ? ' (quick)' : ''}: ${ROUNDS} round(s) of ${SECONDS} s per scenario, ${CONNECTIONS} connections`);
  const { port: asPort } = await startReady([join('dist-bench', 'bench', 'bench-authorization-server.js')], {});
  const asUrl = `http://127.0.0.1:${asPort}`;
  const redisUrl = await startRedis();
  const results: Record<string, AdapterFigures> = {};
  for (const adapter of ['express', 'fastify'] as const) {
    results[adapter] = await measureAdapter(adapter, asUrl, redisUrl);
  }
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const report = { date: new Date().toISOString(), quick: QUICK, rounds: ROUNDS, secondsPerRun: SECONDS, connections: CONNECTIONS, machine, results, targets: targets(results) };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${report.date.slice(0, 10)}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${table(results)}\n\n${report.targets.join('\n')}\n\nmachine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}`);
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
