import { createClient } from '@keyv/redis';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_SERVER_BINARY, RedisServer, freePort, waitForPong } from './redis-server';

/** How long a cluster or a Sentinel set may take to settle: bounded waits, polled every 50 ms. */
const SETTLE_TIMEOUT_MS = 20_000;

/** Polls `check` every 50 ms until it is true; throws `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = SETTLE_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** Sends one command to a Redis on 127.0.0.1 and returns its answer. */
export async function command(port: number, args: string[], password?: string): Promise<unknown> {
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, password });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

/**
 * A Redis Cluster of three primaries (no replicas) on 127.0.0.1, started by the test: each node
 * with `--cluster-enabled yes`, its own config file and bus port; the test assigns the slots
 * (`CLUSTER ADDSLOTSRANGE`), introduces the nodes (`CLUSTER MEET`) and waits for `cluster_state:ok`.
 */
export class RedisClusterOfThree {
  private constructor(
    readonly nodes: RedisServer[],
    private readonly directory: string,
  ) {}

  /** `{ host, port }` of each node, for the cache's `cluster.nodes`. */
  get addresses(): Array<{ host: string; port: number }> {
    return this.nodes.map(({ port }) => ({ host: '127.0.0.1', port }));
  }

  static async start(): Promise<RedisClusterOfThree> {
    const directory = mkdtempSync(join(tmpdir(), 'oauth2-redis-cluster-'));
    const nodes: RedisServer[] = [];
    try {
      const busPorts: number[] = [];
      for (let index = 0; index < 3; index++) {
        busPorts.push(await freePort());
        nodes.push(
          await RedisServer.start({
            extraArguments: [
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              join(directory, `nodes-${index}.conf`),
              '--cluster-port',
              String(busPorts[index]),
              '--cluster-node-timeout',
              '5000',
            ],
          }),
        );
      }
      const ranges = [
        [0, 5460],
        [5461, 10922],
        [10923, 16383],
      ];
      for (const [index, node] of nodes.entries()) {
        await command(node.port, ['CLUSTER', 'ADDSLOTSRANGE', String(ranges[index][0]), String(ranges[index][1])]);
      }
      // The bus port is not the default port + 10000 (which may be above 65535): say it.
      for (const [index, node] of nodes.entries()) {
        if (index > 0) {
          await command(nodes[0].port, ['CLUSTER', 'MEET', '127.0.0.1', String(node.port), String(busPorts[index])]);
        }
      }
      for (const node of nodes) {
        await eventually(`cluster node ${node.port} ok`, async () => {
          const info = String(await command(node.port, ['CLUSTER', 'INFO']));
          return info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3');
        });
      }
      return new RedisClusterOfThree(nodes, directory);
    } catch (error) {
      await Promise.all(nodes.map((node) => node.stop()));
      rmSync(directory, { recursive: true, force: true });
      throw error;
    }
  }

  /** How many keys each node holds, in node order. */
  async keysPerNode(): Promise<number[]> {
    return Promise.all(this.nodes.map(async (node) => Number(await command(node.port, ['DBSIZE']))));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/**
 * A primary, its replica and one Sentinel (quorum 1) on 127.0.0.1, started by the test. Both Redis
 * nodes need `nodePassword`; the Sentinel needs `sentinelPassword`. It declares the primary down
 * after 500 ms without an answer.
 */
export class RedisSentinelSet {
  private sentinelProcess?: ChildProcess;

  private constructor(
    readonly masterId: string,
    readonly primary: RedisServer,
    readonly replica: RedisServer,
    readonly sentinelPort: number,
    readonly nodePassword: string,
    readonly sentinelPassword: string,
    private readonly directory: string,
  ) {}

  static async start(nodePassword: string, sentinelPassword: string): Promise<RedisSentinelSet> {
    const masterId = 'mymaster';
    const directory = mkdtempSync(join(tmpdir(), 'oauth2-redis-sentinel-'));
    const primary = await RedisServer.start({ password: nodePassword, extraArguments: ['--masterauth', nodePassword] });
    const replica = await RedisServer.start({
      password: nodePassword,
      extraArguments: ['--masterauth', nodePassword, '--replicaof', '127.0.0.1', String(primary.port)],
    });
    const set = new RedisSentinelSet(
      masterId,
      primary,
      replica,
      await freePort(),
      nodePassword,
      sentinelPassword,
      directory,
    );
    try {
      await eventually('replica in sync', async () =>
        String(await command(replica.port, ['INFO', 'replication'], nodePassword)).includes('master_link_status:up'),
      );
      await set.startSentinel();
      await eventually('the Sentinel sees the replica', async () => {
        const replicas = (await set.sentinel(['SENTINEL', 'REPLICAS', masterId])) as unknown[][];
        return replicas.some((fields) => {
          const flags = String(fields[fields.indexOf('flags') + 1]);
          return flags === 'slave';
        });
      });
      return set;
    } catch (error) {
      await set.stop();
      throw error;
    }
  }

  /** `{ host, port }` of the Sentinel, for the cache's `sentinel.nodes`. */
  get sentinelAddresses(): Array<{ host: string; port: number }> {
    return [{ host: '127.0.0.1', port: this.sentinelPort }];
  }

  /** A command to the Sentinel. */
  sentinel(args: string[]): Promise<unknown> {
    return command(this.sentinelPort, args, this.sentinelPassword);
  }

  /** The port of the node the Sentinel holds for the primary. */
  async primaryPort(): Promise<number> {
    const [, port] = (await this.sentinel(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterId])) as string[];
    return Number(port);
  }

  /** Kills the primary (SIGKILL), then waits until the Sentinel has promoted the replica and it takes writes. */
  async killPrimaryAndAwaitFailover(): Promise<void> {
    await this.primary.kill();
    await eventually(
      'failover to the replica',
      async () => (await this.primaryPort()) === this.replica.port,
      SETTLE_TIMEOUT_MS,
    );
    await eventually('the replica is a primary', async () =>
      String(await command(this.replica.port, ['INFO', 'replication'], this.nodePassword)).includes('role:master'),
    );
  }

  async stop(): Promise<void> {
    const child = this.sentinelProcess;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
    await Promise.all([this.primary.stop(), this.replica.stop()]);
    rmSync(this.directory, { recursive: true, force: true });
  }

  private async startSentinel(): Promise<void> {
    const config = join(this.directory, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${this.sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${this.directory}`,
        `requirepass ${this.sentinelPassword}`,
        `sentinel monitor ${this.masterId} 127.0.0.1 ${this.primary.port} 1`,
        `sentinel auth-pass ${this.masterId} ${this.nodePassword}`,
        `sentinel down-after-milliseconds ${this.masterId} 500`,
        `sentinel failover-timeout ${this.masterId} 5000`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const child = spawn(REDIS_SERVER_BINARY ?? 'redis-server', [config, '--sentinel'], { stdio: 'ignore' });
    this.sentinelProcess = child;
    await waitForPong(this.sentinelPort, { password: this.sentinelPassword }, 5000);
  }
}
