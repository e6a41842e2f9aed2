import { isJsonObject } from '../common/is-json-object';
import type { RedisCacheResourceOptions } from '../interfaces/cache-options.interface';
import type { RedisNodeAddress } from '../interfaces/redis-topology-options.interface';
import type { OptionProblem } from './option-problem';

/**
 * Default wait for another instance's introspection of the same token, and life of the lock, in
 * milliseconds: several introspections' worth, short enough that a lock holder that died costs the
 * others at most this once.
 */
export const DEFAULT_SINGLE_FLIGHT_TIMEOUT_MS = 1000;

/** How many nodes a `cluster` or `sentinel` may list: start points, not an inventory. */
const MAX_NODES = 100;

const CLUSTER_OPTION_NAMES = ['nodes'];
const SENTINEL_OPTION_NAMES = ['masterId', 'nodes', 'password'];
const NODE_OPTION_NAMES = ['host', 'port'];

/**
 * Problems with where a `redis` cache connects: exactly one of `url`, `cluster` and `sentinel`;
 * a cluster's and Sentinel's nodes, a Sentinel's `masterId` and `password` (never quoted). The
 * `tls` settings are checked with the URL, by redisConnectionProblems().
 */
export function redisTopologyProblems(cache: Record<string, unknown>, field: string): OptionProblem[] {
  const given = (['url', 'cluster', 'sentinel'] as const).filter((name) => cache[name] !== undefined);
  if (given.length === 0) {
    return [
      {
        field: `${field}.url`,
        problem:
          "is required, or cluster, or sentinel: e.g. url: 'redis://localhost:6379', " +
          "cluster: { nodes: [{ host: '10.0.0.1', port: 7000 }] }, or " +
          "sentinel: { masterId: 'mymaster', nodes: [{ host: '10.0.0.2', port: 26379 }] }.",
      },
    ];
  }
  if (given.length > 1) {
    return [
      {
        field: `${field}.${given[1]}`,
        problem: `cannot be used with ${given[0]}: give exactly one of url (one node), cluster and sentinel.`,
      },
    ];
  }
  const problems: OptionProblem[] = [];
  if (cache.cluster !== undefined) {
    problems.push(...sectionProblems(cache.cluster, `${field}.cluster`, CLUSTER_OPTION_NAMES, 'a cluster'));
  }
  if (cache.sentinel !== undefined) {
    problems.push(...sentinelProblems(cache.sentinel, `${field}.sentinel`));
  }
  return problems;
}

/** A valid `redis` cache's topology and single-flight options, as the resolved options hold them. */
export function resolveRedisTopology(
  cache: RedisCacheResourceOptions,
): Pick<RedisCacheResourceOptions, 'url' | 'cluster' | 'sentinel' | 'singleFlightTimeout'> {
  return {
    ...(cache.url !== undefined && { url: cache.url }),
    ...(cache.cluster !== undefined && { cluster: { nodes: cache.cluster.nodes.map(copyNode) } }),
    ...(cache.sentinel !== undefined && {
      sentinel: {
        masterId: cache.sentinel.masterId,
        nodes: cache.sentinel.nodes.map(copyNode),
        ...(cache.sentinel.password !== undefined && { password: cache.sentinel.password }),
      },
    }),
    ...(cache.singleFlight !== false && {
      singleFlightTimeout: cache.singleFlightTimeout ?? DEFAULT_SINGLE_FLIGHT_TIMEOUT_MS,
    }),
  };
}

function sentinelProblems(sentinel: unknown, field: string): OptionProblem[] {
  const problems = sectionProblems(sentinel, field, SENTINEL_OPTION_NAMES, 'a Sentinel configuration');
  if (!isJsonObject(sentinel)) {
    return problems;
  }
  const { masterId, password } = sentinel;
  if (masterId === undefined) {
    problems.push({
      field: `${field}.masterId`,
      problem: "is required: the name the Sentinels monitor the primary under, e.g. 'mymaster'.",
    });
  } else if (typeof masterId !== 'string' || masterId === '') {
    problems.push({ field: `${field}.masterId`, problem: "must be a non-empty string, e.g. 'mymaster'." });
  }
  if (password !== undefined && typeof password !== 'string') {
    problems.push({ field: `${field}.password`, problem: "must be a string, the Sentinels' password." });
  }
  return problems;
}

/** An object with only known keys and a list of nodes. */
function sectionProblems(section: unknown, field: string, known: string[], what: string): OptionProblem[] {
  if (!isJsonObject(section)) {
    return [{ field, problem: `must be an object with ${known.join(', ')}.` }];
  }
  const problems: OptionProblem[] = Object.keys(section)
    .filter((name) => !known.includes(name))
    .map((name) => ({
      field: `${field}.${name}`,
      problem: `is not an option of ${what}: check its spelling. Known options: ${known.join(', ')}.`,
    }));
  const { nodes } = section;
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > MAX_NODES) {
    problems.push({
      field: `${field}.nodes`,
      problem: `must be a list of 1 to ${MAX_NODES} nodes, e.g. [{ host: '10.0.0.1', port: 7000 }].`,
    });
    return problems;
  }
  nodes.forEach((node, index) => problems.push(...nodeProblems(node, `${field}.nodes[${index}]`)));
  return problems;
}

function nodeProblems(node: unknown, field: string): OptionProblem[] {
  if (!isJsonObject(node)) {
    return [{ field, problem: "must be { host, port }, e.g. { host: '10.0.0.1', port: 7000 }." }];
  }
  const problems: OptionProblem[] = Object.keys(node)
    .filter((name) => !NODE_OPTION_NAMES.includes(name))
    .map((name) => ({
      field: `${field}.${name}`,
      problem: `is not an option of a node: check its spelling. Known options: ${NODE_OPTION_NAMES.join(', ')}.`,
    }));
  const { host, port } = node;
  if (typeof host !== 'string' || host.trim() === '' || /[\s/]/.test(host)) {
    problems.push({ field: `${field}.host`, problem: "must be a host name or IP address, e.g. '10.0.0.1'." });
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    problems.push({ field: `${field}.port`, problem: 'must be a port number, an integer from 1 to 65535.' });
  }
  return problems;
}

function copyNode({ host, port }: RedisNodeAddress): RedisNodeAddress {
  return { host, port };
}
