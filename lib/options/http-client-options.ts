import { isJsonObject } from '../common/is-json-object';
import { DEFAULT_TIMEOUT_MS } from '../oauth2.constants';
import { PROXY_ENVIRONMENT, environmentValue, parseProxyUrl } from '../resources/proxy-settings';
import { type OptionProblem, unknownKeys } from './option-problem';

/** The members of a resource's `proxy` option (Gravitee's names). */
const PROXY_OPTION_NAMES = ['enabled', 'useSystemProxy', 'host', 'port', 'username', 'password', 'type'];
/** What `useSystemProxy` takes from the environment instead. */
const EXPLICIT_PROXY_OPTIONS = ['host', 'port', 'username', 'password', 'type'];

/**
 * Problems of a resource's HTTP client options beyond their types: a `http.connectTimeout` above the
 * call's own `timeout` (which would cut it first), and the `proxy` option's members. The shapes of
 * `http` and `proxy` are the schema's.
 *
 * @param env the environment `useSystemProxy` reads (checked now, so that a malformed proxy URL
 * stops the start rather than every call).
 */
export function httpClientOptionProblems(
  resource: Record<string, unknown>,
  field: string,
  env: NodeJS.ProcessEnv = process.env,
): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const http = resource.http;
  const timeout = typeof resource.timeout === 'number' ? resource.timeout : DEFAULT_TIMEOUT_MS;
  if (isJsonObject(http) && typeof http.connectTimeout === 'number' && http.connectTimeout > timeout) {
    problems.push({
      field: `${field}.http.connectTimeout`,
      problem: `is ${http.connectTimeout} ms, more than the resource's timeout (${timeout} ms), which bounds the whole call, connection included: lower it, or raise timeout.`,
    });
  }
  problems.push(...proxyOptionProblems(resource.proxy, `${field}.proxy`, env));
  return problems;
}

/** Problems of a `proxy` option. Never quotes a password, nor a proxy URL from the environment (it may hold one). */
export function proxyOptionProblems(proxy: unknown, field: string, env: NodeJS.ProcessEnv): OptionProblem[] {
  // Anything but an object is reported by the schema.
  if (!isJsonObject(proxy)) {
    return [];
  }
  const problems = unknownKeys(proxy, PROXY_OPTION_NAMES, field, 'a proxy option');
  const { enabled, useSystemProxy, host, port, username, password, type } = proxy;
  for (const [name, value] of [
    ['enabled', enabled],
    ['useSystemProxy', useSystemProxy],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') {
      problems.push({ field: `${field}.${name}`, problem: `must be a boolean (got ${typeof value}).` });
    }
  }
  if (host !== undefined && (typeof host !== 'string' || host === '' || /[/\s@]/.test(host))) {
    problems.push({
      field: `${field}.host`,
      problem:
        "must be the proxy's host name or address alone (no scheme, path or credentials), e.g. 'proxy.internal'.",
    });
  }
  if (port !== undefined && !(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65_535)) {
    problems.push({ field: `${field}.port`, problem: 'must be an integer from 1 to 65535, e.g. 3128.' });
  }
  if (username !== undefined && (typeof username !== 'string' || username === '')) {
    problems.push({ field: `${field}.username`, problem: 'must be a non-empty string.' });
  }
  if (password !== undefined && typeof password !== 'string') {
    problems.push({ field: `${field}.password`, problem: 'must be a string.' });
  } else if (password !== undefined && username === undefined) {
    problems.push({ field: `${field}.username`, problem: 'is required with password.' });
  }
  if (type !== undefined && type !== 'HTTP' && type !== 'SOCKS5') {
    problems.push({ field: `${field}.type`, problem: "must be 'HTTP' or 'SOCKS5'." });
  }
  if (enabled === false) {
    return problems;
  }
  if (useSystemProxy === true) {
    const explicit = EXPLICIT_PROXY_OPTIONS.filter((name) => proxy[name] !== undefined);
    if (explicit.length > 0) {
      problems.push({
        field: `${field}.useSystemProxy`,
        problem: `is true beside ${explicit.join(', ')}: the proxy then comes from the environment (HTTPS_PROXY, HTTP_PROXY). Remove one or the other.`,
      });
    }
    for (const names of [PROXY_ENVIRONMENT.https, PROXY_ENVIRONMENT.http]) {
      const found = environmentValue(names, env);
      if (found !== undefined && parseProxyUrl(found.value) === undefined) {
        problems.push({
          field: `${field}.useSystemProxy`,
          problem: `is true, but the environment variable ${found.name} is not a proxy URL this module can use: give http://[user:password@]host:port or socks5://host:port (a proxy reached over https:// is not supported).`,
        });
      }
    }
    return problems;
  }
  for (const [name, value] of [
    ['host', host],
    ['port', port],
  ] as const) {
    if (value === undefined) {
      problems.push({
        field: `${field}.${name}`,
        problem: `is required: give the proxy's host and port, or useSystemProxy: true to take it from the environment, or enabled: false.`,
      });
    }
  }
  return problems;
}
