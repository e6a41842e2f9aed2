/**
 * `npm run bench:fleet [-- --rounds N]`: fleet-wide single flight, measured (issue 15, item 4).
 *
 * A private redis-server, an authorization server in this process that answers after
 * {@link INTROSPECTION_DELAY_MS} and records which instance introspected (each has its own client
 * id), and four application processes sharing one Redis cache. Each round sends a burst of
 * {@link BURST} requests carrying one cold token, spread round-robin over the four, all at once; the
 * rounds alternate between a route whose cache has single flight on and one whose cache has it off.
 * Per mode: introspections per burst, and the latency of the requests served by the instance that
 * introspected (the lock holder) and by the others (the waiters).
 *
 * With `--app`, this file is one of the application processes instead (environment: AS_URL,
 * REDIS_URL, CLIENT_ID); it prints `READY <port>`.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer, connect } from 'node:net';
import { join } from 'node:path';

const INSTANCES = 4;
const BURST = 500;
/** A realistic introspection: a round trip to an authorization server and its database. */
const INTROSPECTION_DELAY_MS = 30;
/** Requests in flight at once, over the four instances. */
const CONCURRENCY = 100;
const ROUNDS = Number(argument('--rounds') ?? 10);
const ROOT = join(__dirname, '..', '..');

type Mode = 'on' | 'off';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

async function runApp(): Promise<void> {
  const { Controller, Get, Module, UseGuards } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { OAuth2Guard, OAuth2Module, OAuth2Policy } = await import('../lib');
  const redisUrl = process.env.REDIS_URL ?? '';

  @Controller()
  @UseGuards(OAuth2Guard)
  class FleetController {
    @Get('on')
    @OAuth2Policy({ oauthCacheResource: 'single-flight' })
    on() {
      return { ok: true };
    }

    @Get('off')
    @OAuth2Policy({ oauthCacheResource: 'each-instance' })
    off() {
      return { ok: true };
    }
  }

  @Module({
    imports: [
      OAuth2Module.forRoot({
        resources: [
          {
            name: 'as',
            type: 'generic',
            introspectionEndpoint: `${process.env.AS_URL}/introspect`,
            clientId: process.env.CLIENT_ID ?? 'fleet',
            clientSecret: 'fleet-secret',
          },
        ],
        caches: [
          { name: 'single-flight', type: 'redis', url: redisUrl },
          { name: 'each-instance', type: 'redis', url: redisUrl, singleFlight: false },
        ],
        policy: { oauthResource: 'as' },
      }),
    ],
    controllers: [FleetController],
  })
  class FleetModule {}

  const app = await NestFactory.create(FleetModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  console.log(`READY ${(app.getHttpServer().address() as AddressInfo).port}`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

/** Which client introspected which token: the instances' client ids, from Basic authentication. */
const introspectedBy = new Map<string, string[]>();

function startAuthorizationServer(): Promise<string> {
  const server = createServer((incoming, response) => {
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => (body += chunk));
    incoming.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      const basic = Buffer.from(String(incoming.headers.authorization).slice(6), 'base64').toString('utf8');
      const clients = introspectedBy.get(token) ?? [];
      clients.push(basic.split(':')[0]);
      introspectedBy.set(token, clients);
      setTimeout(() => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(
          JSON.stringify({ active: true, client_id: 'bench-client', exp: Math.floor(Date.now() / 1000) + 3600 }),
        );
      }, INTROSPECTION_DELAY_MS);
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis(): Promise<string> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
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
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('redis-server did not start within 5 s');
}

function startInstance(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [__filename, '--app'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('an application did not start within 30 s')), 30_000);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`an application exited with ${code}`)));
  });
}

/** One GET; resolves with its status and latency in milliseconds. */
function get(
  port: number,
  path: string,
  token: string,
  agent: Agent,
  retried = false,
): Promise<{ status: number; ms: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port, path, agent, headers: { Authorization: `Bearer ${token}` } },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }),
        );
      },
    );
    // A kept-alive socket the server closed as it was reused: sent again once, on a new socket.
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' && !retried ? resolve(get(port, path, token, agent, true)) : reject(error),
    );
    outgoing.end();
  });
}

interface Burst {
  introspections: number;
  /** Latencies of the requests served by the instance(s) that introspected. */
  holder: number[];
  /** Latencies of the requests served by the others. */
  waiters: number[];
  /** Per instance, its first answer's latency: the cold request's, before the token was cached. */
  firstHolder: number;
  firstWaiter: number;
  failed: number;
}

async function burst(ports: number[], agents: Agent[], mode: Mode): Promise<Burst> {
  const token = randomBytes(32).toString('base64url');
  const results: Array<{ status: number; ms: number; instance: number; order: number }> = [];
  let next = 0;
  // At most CONCURRENCY requests in flight, the first wave all at once, all carrying the same token.
  const worker = async () => {
    for (let index = next++; index < BURST; index = next++) {
      const instance = index % ports.length;
      const result = await get(ports[instance], `/${mode}`, token, agents[instance]);
      results.push({ ...result, instance, order: index });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const clients = introspectedBy.get(token) ?? [];
  const holders = new Set(clients.map((client) => Number(client.replace('fleet-', ''))));
  const first = (instances: number[]) =>
    Math.max(
      ...instances.map(
        (instance) => results.find((result) => result.instance === instance && result.order < ports.length)?.ms ?? 0,
      ),
    );
  const all = ports.map((_, instance) => instance);
  return {
    introspections: clients.length,
    holder: results.filter(({ instance }) => holders.has(instance)).map(({ ms }) => ms),
    waiters: results.filter(({ instance }) => !holders.has(instance)).map(({ ms }) => ms),
    firstHolder: first(all.filter((instance) => holders.has(instance))),
    firstWaiter: first(all.filter((instance) => !holders.has(instance))),
    failed: results.filter(({ status }) => status !== 200).length,
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const [redisUrl, asUrl] = await Promise.all([startRedis(), startAuthorizationServer()]);
  const ports = await Promise.all(
    Array.from({ length: INSTANCES }, (_, index) =>
      startInstance({ AS_URL: asUrl, REDIS_URL: redisUrl, CLIENT_ID: `fleet-${index}` }),
    ),
  );
  const agents = ports.map(() => new Agent({ keepAlive: true, maxSockets: 64 }));
  // Warm-up: connections opened, code paths compiled.
  for (const mode of ['on', 'off'] as const) {
    await burst(ports, agents, mode);
  }
  const figures: Record<Mode, Burst[]> = { on: [], off: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      figures[mode].push(await burst(ports, agents, mode));
    }
  }
  console.log(
    `\n${INSTANCES} application processes, one redis-server, introspection answered after ${INTROSPECTION_DELAY_MS} ms; ` +
      `${ROUNDS} bursts of ${BURST} requests per mode, one cold token each, spread round-robin, ${CONCURRENCY} in flight.\n`,
  );
  const fmt = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '-');
  console.log(
    'single flight | introspections per burst (min/median/max) | failed | holder p50/p99 ms | waiters p50/p99 ms | cold request: holder / waiters (median ms)',
  );
  for (const mode of ['off', 'on'] as const) {
    const bursts = figures[mode];
    const counts = bursts.map(({ introspections }) => introspections);
    const holder = bursts.flatMap((entry) => entry.holder);
    const waiters = bursts.flatMap((entry) => entry.waiters);
    const firstWaiters = bursts.map(({ firstWaiter }) => firstWaiter).filter((ms) => ms > 0);
    console.log(
      `${mode.padEnd(13)} | ${Math.min(...counts)}/${percentile(counts, 50)}/${Math.max(...counts)} [${[...counts].sort((a, b) => a - b).join(' ')}] | ` +
        `${bursts.reduce((sum, entry) => sum + entry.failed, 0)} | ` +
        `${fmt(percentile(holder, 50))}/${fmt(percentile(holder, 99))} | ${fmt(percentile(waiters, 50))}/${fmt(percentile(waiters, 99))} | ` +
        `${fmt(
          percentile(
            bursts.map(({ firstHolder }) => firstHolder),
            50,
          ),
        )} / ${fmt(percentile(firstWaiters, 50))}`,
    );
  }
}

if (process.argv.includes('--app')) {
  void runApp();
} else {
  main()
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => {
      for (const child of children) {
        child.kill('SIGKILL');
      }
      process.exit();
    });
}
