import { createClient } from '@keyv/redis';
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

/**
 * The `redis-server` binary: `$REDIS_SERVER_BIN` when it is set (only it: point it at nothing to see
 * the tests skip), else the first on `PATH` or in /usr/bin, /usr/sbin, /usr/local/bin. `undefined`
 * when there is none.
 */
export const REDIS_SERVER_BINARY: string | undefined = findRedisServer();

/**
 * `describe` for tests that need a real Redis: skipped, with a message saying why, when
 * `redis-server` is not installed. With `OAUTH2_TEST_REQUIRE_REDIS=1` (CI), a missing binary fails
 * instead, so the tests cannot silently stop running.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (REDIS_SERVER_BINARY) {
    describe(name, body);
    return;
  }
  if (process.env.OAUTH2_TEST_REQUIRE_REDIS === '1') {
    describe(name, () => {
      it('needs redis-server', () => {
        throw new Error(
          'redis-server is not installed, and OAUTH2_TEST_REQUIRE_REDIS=1 requires it (apt-get install redis-server)',
        );
      });
    });
    return;
  }
  console.warn(
    `SKIPPED "${name}": redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER_BIN)`,
  );
  describe.skip(name, body);
}

/** How long a redis-server may take to answer PING after it is started. */
const START_TIMEOUT_MS = 5000;

/** How a test's redis-server is set up. */
export interface RedisServerOptions {
  /** `requirepass`: clients must authenticate. */
  readonly password?: string;
  /**
   * TLS only (no plain port): the server's certificate and key, the CA that issued it and that client
   * certificates are checked against, and, for mutual TLS, the client certificate this helper itself
   * presents (to check the server is up, and to dump it). PEM texts.
   */
  readonly tls?: {
    readonly certPem: string;
    readonly keyPem: string;
    readonly caPem: string;
    readonly client?: { readonly certPem: string; readonly keyPem: string };
  };
  /** More `redis-server` arguments, e.g. `['--cluster-enabled', 'yes', ...]` or `['--replicaof', ...]`. */
  readonly extraArguments?: readonly string[];
}

/**
 * A real `redis-server` of its own, on 127.0.0.1 and a free port, with no persistence (`--save ''
 * --appendonly no`): nothing is written to disk but TLS files in a temporary directory, and a restart
 * starts empty, as a Redis that lost its data would.
 */
export class RedisServer {
  private process?: ChildProcess;
  private output = '';
  private tlsDirectory?: string;

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  /** `redis://127.0.0.1:<port>`, or `rediss://` for a TLS server. */
  get url(): string {
    return `${this.options.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  /** Starts a server on a free port; tries another port if the one it picked was taken meanwhile. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new RedisServer(await freePort(), options);
      try {
        await server.launch();
        return server;
      } catch (error) {
        lastError = error;
        await server.stop();
      }
    }
    throw lastError;
  }

  /** Kills the server at once (SIGKILL), as a crash would: connections drop without goodbye. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // SIGKILL ends a paused (SIGSTOPped) process too.
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * Freezes the server (SIGSTOP): connections stay open, commands are accepted by the kernel and never
   * answered, as a Redis stuck in a long command or a swapped-out host. `resume()` thaws it.
   */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** Thaws a paused server (SIGCONT): it answers what it received meanwhile. */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** Starts the server again on the same port, empty. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Stops the server, and removes its TLS files. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.tlsDirectory) {
      rmSync(this.tlsDirectory, { recursive: true, force: true });
      this.tlsDirectory = undefined;
    }
  }

  /** Every key, with its value and remaining time to live, for tests that inspect what Redis holds. */
  async dump(): Promise<Array<{ key: string; value: string; ttlMs: number }>> {
    const { tls, password } = this.options;
    const client = createClient({
      url: this.url,
      password,
      socket: tls ? { tls: true, ca: tls.caPem, cert: tls.client?.certPem, key: tls.client?.keyPem } : undefined,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const keys: string[] = [];
      let cursor = '0';
      let rounds = 0;
      do {
        const page = await client.scan(cursor, { COUNT: 1000 });
        cursor = String(page.cursor);
        keys.push(...page.keys);
        rounds += 1;
      } while (cursor !== '0' && rounds < 10_000);
      return await Promise.all(
        keys.map(async (key) => ({ key, value: (await client.get(key)) ?? '', ttlMs: await client.pTTL(key) })),
      );
    } finally {
      client.destroy();
    }
  }

  private async launch(): Promise<void> {
    const child = spawn(REDIS_SERVER_BINARY ?? 'redis-server', this.arguments(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`redis-server exited (${code ?? signal}):\n${this.output}`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPong(this.port, this.options, START_TIMEOUT_MS), exited]);
  }

  private arguments(): string[] {
    const { password, tls } = this.options;
    const common = [
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      tmpdir(),
      ...(this.options.extraArguments ?? []),
    ];
    const auth = password === undefined ? [] : ['--requirepass', password];
    if (!tls) {
      return ['--port', String(this.port), ...common, ...auth];
    }
    if (!this.tlsDirectory) {
      this.tlsDirectory = mkdtempSync(join(tmpdir(), 'oauth2-redis-tls-'));
      writeFileSync(join(this.tlsDirectory, 'server.crt'), tls.certPem);
      writeFileSync(join(this.tlsDirectory, 'server.key'), tls.keyPem, { mode: 0o600 });
      writeFileSync(join(this.tlsDirectory, 'ca.crt'), tls.caPem);
    }
    return [
      '--port',
      '0',
      '--tls-port',
      String(this.port),
      '--tls-cert-file',
      join(this.tlsDirectory, 'server.crt'),
      '--tls-key-file',
      join(this.tlsDirectory, 'server.key'),
      '--tls-ca-cert-file',
      join(this.tlsDirectory, 'ca.crt'),
      '--tls-auth-clients',
      tls.client ? 'yes' : 'no',
      ...common,
      ...auth,
    ];
  }
}

/** A port on 127.0.0.1 that was free a moment ago: the system gave it, and it was released. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once a Redis on the port answers (PING, or AUTH when it has a password); rejects after `timeoutMs`. */
export async function waitForPong(port: number, options: RedisServerOptions, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ping(port, options)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

function ping(port: number, { password, tls }: RedisServerOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = tls
      ? tlsConnect({ host: '127.0.0.1', port, ca: tls.caPem, cert: tls.client?.certPem, key: tls.client?.keyPem })
      : createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once(tls ? 'secureConnect' : 'connect', () =>
      socket.write(password === undefined ? 'PING\r\n' : `AUTH ${password}\r\n`),
    );
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) {
        done(answer.startsWith('+PONG') || answer.startsWith('+OK'));
      }
    });
  });
}

function findRedisServer(): string | undefined {
  const candidates = process.env.REDIS_SERVER_BIN
    ? [process.env.REDIS_SERVER_BIN]
    : [
        ...(process.env.PATH ?? '')
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, 'redis-server')),
        '/usr/bin/redis-server',
        '/usr/sbin/redis-server',
        '/usr/local/bin/redis-server',
      ];
  return candidates.find((candidate): candidate is string => {
    if (!candidate) {
      return false;
    }
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
