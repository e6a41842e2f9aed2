import type { RedisClientConnectionType, RedisClientOptions, RedisClientType } from '@keyv/redis';
import { Logger } from '@nestjs/common';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { OptionalPackageLoader } from '../common/optional-package.loader';
import type { RedisTlsOptions } from '../interfaces/cache-options.interface';
import type { RedisClusterOptions, RedisSentinelOptions } from '../interfaces/redis-topology-options.interface';
import { CacheManagerTokenCacheStore } from './cache-manager-token-cache.store';
import type { EntrySeal } from './entry-seal';
import type { CachedIntrospection, TokenCacheStore } from './token-cache-store.interface';

/** Longest wait between two reconnection attempts: a Redis back after an outage is used again within it. */
const MAX_RECONNECT_DELAY_MS = 1000;

/** The `@keyv/redis` package, as `import()` gives it. */
export type KeyvRedisPackage = typeof import('@keyv/redis');

/**
 * Imports `@keyv/redis`: an optional peer dependency, which only an application with a `redis`
 * cache installs.
 *
 * @param field the cache's option path (`caches[1]`), for the message when it is not installed.
 * @throws OAuth2ConfigurationError with `npm install @keyv/redis` when it is not installed.
 */
export function importKeyvRedis(packages: OptionalPackageLoader, field: string): Promise<KeyvRedisPackage> {
  return packages.load('@keyv/redis', field, "type 'redis'", () => import('@keyv/redis'));
}

/** How a {@link RedisTokenCacheStore} connects. */
export interface RedisTokenCacheStoreOptions {
  /** The cache resource's name, for log lines. */
  readonly name: string;
  /** The cache's option path (`caches[1]`), for start-up messages. Default `cache '<name>'`. */
  readonly field?: string;
  /** `redis://` or `rediss://` URL of a single node; else `cluster` or `sentinel`. */
  readonly url?: string;
  /** A Redis Cluster's start nodes. */
  readonly cluster?: RedisClusterOptions;
  /** The Sentinels and the name of the primary they manage. */
  readonly sentinel?: RedisSentinelOptions;
  /** ACL user, unless the URL has one. */
  readonly username?: string;
  /** Password, unless the URL has one. */
  readonly password?: string;
  /** TLS settings of a `rediss://` URL, or of every node (and Sentinel) of a cluster or Sentinel set-up. */
  readonly tls?: RedisTlsOptions;
  /** Put before every key. */
  readonly keyPrefix: string;
  /** Time limit of one connection attempt, in milliseconds. */
  readonly connectTimeout: number;
  /** Authenticates every value (with `hmacSecret`): one that fails is a miss. */
  readonly seal?: EntrySeal;
}

/**
 * A store in Redis, through cache-manager, Keyv and `@keyv/redis`, that several application
 * instances can share. Values are JSON (Keyv's `{"value":…,"expires":…}` around the entry, or around
 * `{"entry":…,"mac":…}` with a seal), keys are `keyPrefix` + the hashed key: Redis holds no token.
 *
 * `@keyv/redis` is imported by {@link prepare}, at start-up, not when this file is loaded: an
 * application without a `redis` cache need not install it, and a request never waits for it.
 *
 * The node-redis client is set up never to wait for Redis: with its default settings it queues
 * commands while disconnected, and a `get` during an outage waits until Redis is back. Here the
 * offline queue is off (a command fails at once when there is no connection), each connection
 * attempt is bounded by `connectTimeout`, and the client reconnects by itself, forever, at most
 * {@link MAX_RECONNECT_DELAY_MS} apart. {@link TokenCache} bounds each call by a timeout on top, for
 * a Redis that is connected but does not answer.
 */
export class RedisTokenCacheStore implements TokenCacheStore {
  private preparation?: Promise<void>;
  private connection?: { readonly client: RedisClientConnectionType; readonly entries: CacheManagerTokenCacheStore };
  private closed = false;

  /**
   * @param options how to connect.
   * @param packages imports `@keyv/redis`.
   */
  constructor(
    private readonly options: RedisTokenCacheStoreOptions,
    private readonly packages: OptionalPackageLoader = new OptionalPackageLoader(),
  ) {
    if (options.tls?.insecureSkipVerify) {
      new Logger('OAuth2Cache').warn(
        `cache '${options.name}' accepts any Redis server certificate (tls.insecureSkipVerify): for local development only`,
      );
    }
  }

  /**
   * Imports `@keyv/redis` and sets the client up, not connected yet.
   *
   * @throws OAuth2ConfigurationError when `@keyv/redis` is not installed.
   */
  prepare(): Promise<void> {
    this.preparation ??= importKeyvRedis(this.packages, this.options.field ?? `cache '${this.options.name}'`).then(
      (keyvRedis) => this.setUp(keyvRedis),
    );
    return this.preparation;
  }

  /**
   * Starts connecting (after {@link prepare}, if it has not run), and waits for the first connection
   * or the first failure. Either way the client keeps (re)connecting in the background, so a Redis
   * that is down at start-up is used as soon as it is up.
   */
  async open(): Promise<void> {
    await this.prepare();
    if (!this.connection) {
      return; // closed meanwhile
    }
    const { client } = this.connection;
    if (this.options.url === undefined) {
      // A cluster or Sentinel client connects as a whole: its promise settles once it has found the
      // nodes (or, for a cluster, when none of the start nodes answered: the next call tries again).
      await withDeadline(client.connect(), this.options.connectTimeout + 100);
      return;
    }
    const single = client as RedisClientType;
    const firstOutcome = new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown) => {
        clearTimeout(timer);
        single.off('ready', onReady);
        single.off('error', onError);
        if (error === undefined) {
          resolve();
        } else {
          reject(error);
        }
      };
      const onReady = () => settle();
      const onError = (error: unknown) => settle(error);
      // A server that accepts the connection but never finishes the handshake sends no error event.
      const timer = setTimeout(
        () => settle(new Error(`no connection within ${this.options.connectTimeout} ms`)),
        this.options.connectTimeout + 100,
      );
      timer.unref();
      single.on('ready', onReady);
      single.on('error', onError);
    });
    // Resolves once connected, or once closed; never rejects with the retrying strategy below.
    single.connect().catch(() => undefined);
    await firstOutcome;
  }

  async get(key: string): Promise<CachedIntrospection | undefined> {
    return this.entries().get(key);
  }

  async set(key: string, entry: CachedIntrospection, ttlMilliseconds: number): Promise<void> {
    return this.entries().set(key, entry, ttlMilliseconds);
  }

  async delete(key: string): Promise<void> {
    return this.entries().delete(key);
  }

  /** `SET key 1 NX PX ttl`: one round trip, atomic across every instance that shares this Redis. */
  async addOnce(key: string, ttlMilliseconds: number): Promise<boolean> {
    return this.lock(key, '1', ttlMilliseconds);
  }

  /** `SET <prefix><key> <owner> NX PX <ms>`: whether this call took the lock. */
  async lock(key: string, owner: string, ttlMilliseconds: number): Promise<boolean> {
    const answer = await this.client().set(this.options.keyPrefix + key, owner, {
      condition: 'NX',
      expiration: { type: 'PX', value: ttlMilliseconds },
    });
    return answer === 'OK';
  }

  /** Whether a lock is held (its key exists). */
  async locked(key: string): Promise<boolean> {
    return (await this.client().exists(this.options.keyPrefix + key)) === 1;
  }

  /** Drops a lock if `owner` still holds it: one that expired and was taken since is left to its holder. */
  async unlock(key: string, owner: string): Promise<void> {
    await this.client().eval(UNLOCK_SCRIPT, { keys: [this.options.keyPrefix + key], arguments: [owner] });
  }

  /** Sends `PING` on the store's connection; rejects at once while disconnected (no offline queue). */
  async ping(): Promise<void> {
    await this.client().ping();
  }

  /** Drops the connection at once: pending cache writes are not worth delaying a shutdown for. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.connection) {
      return;
    }
    const { client, entries } = this.connection;
    await entries.close();
    if (client.isOpen) {
      await client.destroy();
    }
  }

  private setUp(keyvRedis: KeyvRedisPackage): void {
    if (this.closed) {
      return;
    }
    const client = createConnection(keyvRedis, this.options);
    // Connection errors come back as failed calls, which TokenCache reports once. Without a
    // listener, an 'error' event would be thrown as an uncaught exception.
    client.on('error', () => undefined);
    const adapter = new keyvRedis.default(client, { throwOnConnectError: true, throwOnErrors: true });
    const keyv = new Keyv({
      store: adapter,
      // The prefix is this store's: neither Keyv nor the adapter add theirs.
      namespace: undefined,
      useKeyPrefix: false,
      // Plain JSON, which any Redis client can read, rather than Keyv's default dialect of it: the
      // entries hold nothing JSON cannot (payloads came as JSON).
      serialize: (data) => JSON.stringify(data),
      deserialize: (data: string) => JSON.parse(data),
      throwOnErrors: true,
    });
    const entries = new CacheManagerTokenCacheStore(
      createCache({ stores: [keyv] }),
      this.options.keyPrefix,
      false,
      this.options.seal,
    );
    this.connection = { client, entries };
  }

  /** The entries, once {@link prepare} has set the client up; a call before is a failure (a miss). */
  private entries(): CacheManagerTokenCacheStore {
    return this.prepared().entries;
  }

  /** The client, for the commands Keyv has not: the lock's, `PING`. */
  private client(): RedisClientType {
    // The three clients take the same calls for these single-key commands; their types differ only
    // in the cluster's and Sentinel's extra members.
    return this.prepared().client as RedisClientType;
  }

  private prepared(): NonNullable<RedisTokenCacheStore['connection']> {
    if (!this.connection) {
      throw new Error(`cache '${this.options.name}' is ${this.closed ? 'closed' : 'not prepared'}`);
    }
    return this.connection;
  }
}

/**
 * Deletes the lock only if it still holds the caller's owner value. One key, so it runs on the node
 * holding it, in a cluster too.
 */
const UNLOCK_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * How many times the Sentinel client looks again at the topology before it gives up: enough to wait
 * out a Sentinel set that is unreachable at start-up (it looks once a second) without ever leaving
 * the client dead, which a node-redis Sentinel client that gave up its first connection stays.
 */
const SENTINEL_REDISCOVERIES = 1_000_000;

/** The client of a single node, a cluster or a Sentinel-managed primary, not connected yet. */
function createConnection(
  keyvRedis: KeyvRedisPackage,
  options: RedisTokenCacheStoreOptions,
): RedisClientConnectionType {
  const node = nodeOptions(options);
  if (options.cluster) {
    return keyvRedis.createCluster({
      rootNodes: options.cluster.nodes.map(({ host, port }) => ({ socket: { host, port } })),
      defaults: node,
      // A cluster's own rediscovery follows MOVED answers; commands never queue while a node is down.
      minimizeConnections: false,
    }) as RedisClientConnectionType;
  }
  if (options.sentinel) {
    const { socket } = node;
    return keyvRedis.createSentinel({
      name: options.sentinel.masterId,
      sentinelRootNodes: options.sentinel.nodes.map(({ host, port }) => ({ host, port })),
      nodeClientOptions: node,
      sentinelClientOptions: {
        password: options.sentinel.password,
        disableOfflineQueue: true,
        socket,
      },
      maxCommandRediscovers: SENTINEL_REDISCOVERIES,
    }) as RedisClientConnectionType;
  }
  return keyvRedis.createClient({ url: options.url, ...node }) as RedisClientType;
}

/** What every connection to a Redis node gets: credentials, TLS, time limits, no offline queue. */
function nodeOptions(options: RedisTokenCacheStoreOptions): RedisClientOptions & { socket: object } {
  const { tls } = options;
  const socket = {
    connectTimeout: options.connectTimeout,
    // Exponential back-off with jitter, so that a fleet of instances does not reconnect in step.
    reconnectStrategy: (retries: number) =>
      Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 50),
  };
  return {
    username: options.username,
    password: options.password,
    // Fail a command at once while disconnected, rather than queue it until Redis is back.
    disableOfflineQueue: true,
    socket: tls
      ? {
          ...socket,
          tls: true,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          passphrase: tls.passphrase,
          servername: tls.servername,
          rejectUnauthorized: tls.insecureSkipVerify !== true,
        }
      : socket,
  };
}

/** A promise, or a rejection once `milliseconds` have passed without it settling. */
function withDeadline(promise: Promise<unknown>, milliseconds: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${milliseconds} ms`)), milliseconds);
    timer.unref();
  });
  return Promise.race([promise.then(() => undefined), deadline]).finally(() => clearTimeout(timer));
}
