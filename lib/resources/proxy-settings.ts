import { isIP } from 'node:net';
import type { OAuth2ResourceProxyOptions } from '../interfaces/resource-options.interface';
import type { ProxyEndpoint } from './proxy-tunnel';

/** The proxies of one resource, per scheme of the authorization server's URLs, and who bypasses them. */
export interface ResolvedProxy {
  /** The proxy of `http://` URLs; none: direct. */
  readonly http?: ProxyEndpoint;
  /** The proxy of `https://` URLs; none: direct. */
  readonly https?: ProxyEndpoint;
  /** `NO_PROXY` entries (with `useSystemProxy` only): hosts reached directly. */
  readonly noProxy: readonly NoProxyEntry[];
  /** Where it came from, for the start-up log line. */
  readonly source: 'options' | 'environment';
}

/** One `NO_PROXY` entry: a host name or domain (`example.com`, `.example.com`, `*.example.com`), an address, or `*`. */
interface NoProxyEntry {
  readonly host: string;
  readonly port?: number;
}

/** The environment variables `useSystemProxy` reads, lower-case first (as curl and axios do). */
export const PROXY_ENVIRONMENT = {
  http: ['http_proxy', 'HTTP_PROXY'],
  https: ['https_proxy', 'HTTPS_PROXY'],
  noProxy: ['no_proxy', 'NO_PROXY'],
} as const;

/** The first of the names that is set in the environment, and its value. */
export function environmentValue(
  names: readonly string[],
  env: NodeJS.ProcessEnv,
): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (typeof value === 'string' && value.trim() !== '') {
      return { name, value: value.trim() };
    }
  }
  return undefined;
}

/**
 * A proxy URL from the environment: `http://[user:password@]host[:port]` (port 80 by default) or
 * `socks5://...` (1080); `undefined` for anything else (an `https://` proxy, a typo). Its text is never
 * quoted in a message: it may hold a password.
 */
export function parseProxyUrl(value: string): ProxyEndpoint | undefined {
  let url: URL;
  try {
    // A bare `host:port`, as some tools accept, is read as http.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    return undefined;
  }
  const type =
    url.protocol === 'http:'
      ? 'HTTP'
      : url.protocol === 'socks5:' || url.protocol === 'socks5h:'
        ? 'SOCKS5'
        : undefined;
  if (type === undefined || url.hostname === '' || (url.pathname !== '' && url.pathname !== '/')) {
    return undefined;
  }
  return {
    type,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (type === 'HTTP' ? 80 : 1080) : Number(url.port),
    ...(url.username !== '' && { username: decodeURIComponent(url.username) }),
    ...(url.password !== '' && { password: decodeURIComponent(url.password) }),
  };
}

/**
 * A resource's proxies from its validated `proxy` option: none by default, whatever the environment
 * says; the option's own proxy for both schemes; or, with `useSystemProxy`, the environment's, read
 * once, here (at start-up).
 */
export function resolveProxy(
  options: OAuth2ResourceProxyOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedProxy | undefined {
  if (options === undefined || options.enabled === false) {
    return undefined;
  }
  if (options.useSystemProxy === true) {
    const read = (names: readonly string[]) => {
      const found = environmentValue(names, env);
      return found === undefined ? undefined : parseProxyUrl(found.value);
    };
    const http = read(PROXY_ENVIRONMENT.http);
    const https = read(PROXY_ENVIRONMENT.https);
    if (http === undefined && https === undefined) {
      return undefined;
    }
    return {
      ...(http !== undefined && { http }),
      ...(https !== undefined && { https }),
      noProxy: parseNoProxy(environmentValue(PROXY_ENVIRONMENT.noProxy, env)?.value ?? ''),
      source: 'environment',
    };
  }
  const endpoint: ProxyEndpoint = {
    type: options.type ?? 'HTTP',
    host: options.host ?? '',
    port: options.port ?? 0,
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
  };
  return { http: endpoint, https: endpoint, noProxy: [], source: 'options' };
}

/** `NO_PROXY`'s entries, separated by commas or spaces. */
export function parseNoProxy(value: string): NoProxyEntry[] {
  return value
    .split(/[\s,]+/)
    .filter((entry) => entry !== '')
    .map((entry) => {
      const match = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[(.*)\](:\d+)?$/, '$1$2'));
      const host = (match?.[1] ?? entry).replace(/^\*?\./, '').toLowerCase();
      const port = match?.[2] === undefined ? undefined : Number(match[2]);
      return isIP(entry) ? { host: entry.toLowerCase() } : { host, ...(port !== undefined && { port }) };
    });
}

/**
 * The proxy for a URL: none when the resource has none for its scheme, or when `NO_PROXY` names its
 * host (the host itself or a domain it is in; `*` for every host), and the port if the entry has one.
 */
export function proxyFor(proxy: ResolvedProxy | undefined, url: URL): ProxyEndpoint | undefined {
  const endpoint = url.protocol === 'https:' ? proxy?.https : url.protocol === 'http:' ? proxy?.http : undefined;
  if (endpoint === undefined || proxy === undefined) {
    return undefined;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const bypassed = proxy.noProxy.some(
    (entry) =>
      (entry.host === '*' || host === entry.host || host.endsWith(`.${entry.host}`)) &&
      (entry.port === undefined || entry.port === port),
  );
  return bypassed ? undefined : endpoint;
}
