/** Where a Redis node listens. */
export interface RedisNodeAddress {
  /** Host name or IP address. */
  host: string;
  /** TCP port (1 to 65535). */
  port: number;
}

/**
 * A Redis Cluster (`cluster-enabled yes`). The nodes given are where the client starts: it learns
 * the others, and which holds which hash slot, from them, and follows the cluster's redirections.
 * The cache's `username`, `password` and `tls` apply to every node.
 */
export interface RedisClusterOptions {
  /** Some nodes of the cluster (one is enough, a few survive one being down). */
  nodes: RedisNodeAddress[];
}

/**
 * A primary managed by Redis Sentinel, with Gravitee's option names: the client asks the Sentinels
 * which node is the primary of `masterId`, and follows a failover. The cache's `username`,
 * `password` and `tls` apply to the Redis nodes; `tls` applies to the Sentinels too.
 */
export interface RedisSentinelOptions {
  /** The name the Sentinels monitor the primary under (`sentinel monitor <masterId> ...`). */
  masterId: string;
  /** Some Sentinels (a few: the client tries them in turn). */
  nodes: RedisNodeAddress[];
  /** The Sentinels' password (`requirepass` of the Sentinels), when they have one. */
  password?: string;
}
