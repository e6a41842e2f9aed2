import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { type ResolvedProxy, proxyFor } from './proxy-settings';
import { type ProxyEndpoint, authority, openTunnel, proxyAuthorization } from './proxy-tunnel';

/** How one resource's connections are made and kept, its `http` options resolved. */
export interface HttpConnectionSettings {
  /** Keep connections open between calls. */
  readonly keepAlive: boolean;
  /** Milliseconds a kept-alive connection may stay unused before it is closed. */
  readonly idleTimeoutMs: number;
  /** Milliseconds to open a connection (TCP, the proxy's tunnel, TLS). */
  readonly connectTimeoutMs: number;
  /** Most connections open to one server (or proxy) at once; more requests wait for one. */
  readonly maxSockets: number;
  /** The TLS options of `https://` connections (CA, client certificate, verification). */
  readonly tls: https.AgentOptions;
}

/** The agents axios is given for one request. */
export interface RequestAgents {
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
}

/** What Node's `Agent` does with a request, which its type declarations leave out. */
type AddRequest = (this: http.Agent, request: http.ClientRequest, options: http.RequestOptions) => void;
/** Node's callback of `createConnection`: a socket, or an error (with no socket, whatever its type says). */
type ConnectionCallback = (error: Error | null, socket: Duplex) => void;
/** The options Node's `Agent` hands `createConnection`: the request's and the agent's, merged. */
type ConnectionOptions = tls.ConnectionOptions & { host?: string; port?: number | string };

/** A connection not open within the connect timeout; reported as the server's unavailability. */
export class ConnectTimeoutError extends Error {
  readonly code = 'OAUTH2_CONNECT_TIMEOUT';

  constructor(readonly milliseconds: number) {
    super(`no connection within ${milliseconds} ms`);
    this.name = 'ConnectTimeoutError';
  }
}

/** Destroys a socket that has not emitted `event` (connected, or finished its TLS handshake) in time. */
function boundConnect<S extends net.Socket>(socket: S, milliseconds: number, event: 'connect' | 'secureConnect'): S {
  const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(milliseconds)), milliseconds);
  timer.unref();
  const clear = () => clearTimeout(timer);
  socket.once(event, clear);
  socket.once('close', clear);
  return socket;
}

function agentOptions(settings: HttpConnectionSettings): http.AgentOptions {
  // `timeout` is the idle time of a free socket: Node's agent closes it then; while a request uses the
  // socket, the request's own time limit applies.
  return { keepAlive: settings.keepAlive, maxSockets: settings.maxSockets, timeout: settings.idleTimeoutMs };
}

/** Direct `http://` connections, each opened within the connect timeout. */
class DirectHttpAgent extends http.Agent {
  constructor(private readonly settings: HttpConnectionSettings) {
    super(agentOptions(settings));
  }

  override createConnection(options: ConnectionOptions): Duplex {
    const socket = super.createConnection(options) as net.Socket;
    return boundConnect(socket, this.settings.connectTimeoutMs, 'connect');
  }
}

/** Direct `https://` connections: the resource's TLS options, TCP and handshake within the connect timeout. */
class DirectHttpsAgent extends https.Agent {
  constructor(private readonly settings: HttpConnectionSettings) {
    super({ ...settings.tls, ...agentOptions(settings) });
  }

  override createConnection(options: ConnectionOptions): Duplex {
    const socket = super.createConnection(options) as tls.TLSSocket;
    return boundConnect(socket, this.settings.connectTimeoutMs, 'secureConnect');
  }
}

/**
 * `http://` through an HTTP proxy: each request goes to the proxy in absolute form
 * (`GET http://host/path`, RFC 9112 §3.2.2) with `Proxy-Authorization`; connections to the proxy are
 * pooled, capped and kept alive as direct ones are.
 */
class ProxyHttpAgent extends DirectHttpAgent {
  constructor(
    settings: HttpConnectionSettings,
    private readonly proxy: ProxyEndpoint,
  ) {
    super(settings);
  }

  addRequest(request: http.ClientRequest, options: http.RequestOptions): void {
    const host = options.hostname ?? options.host ?? 'localhost';
    request.path = `http://${authority(host, Number(options.port ?? 80))}${request.path}`;
    const credentials = proxyAuthorization(this.proxy);
    if (credentials !== undefined) {
      request.setHeader('Proxy-Authorization', credentials);
    }
    const addRequest = (http.Agent.prototype as unknown as { addRequest: AddRequest }).addRequest;
    addRequest.call(this, request, {
      ...options,
      host: this.proxy.host,
      hostname: this.proxy.host,
      port: this.proxy.port,
    });
  }
}

/**
 * Connections through a tunnel: `CONNECT` to an HTTP proxy, or SOCKS5, then, for `https://`, TLS with
 * the resource's own options end to end (the proxy sees only ciphertext, and the server's certificate
 * is checked against its host name as on a direct connection). Node's agent still pools, caps and
 * keeps alive the connections, one tunnel each.
 */
function tunnelConnection(
  proxy: ProxyEndpoint,
  settings: HttpConnectionSettings,
  options: ConnectionOptions,
  secure: boolean,
  callback: ConnectionCallback,
): void {
  const host = options.host ?? 'localhost';
  const port = Number(options.port ?? (secure ? 443 : 80));
  const started = Date.now();
  const fail = (error: Error) => callback(error, undefined as unknown as Duplex);
  openTunnel(proxy, host, port, settings.connectTimeoutMs).then(
    (socket) => {
      if (!secure) {
        callback(null, socket);
        return;
      }
      const left = Math.max(1, settings.connectTimeoutMs - (Date.now() - started));
      // The resource's TLS settings only, not the whole request's options (which carry HTTP members
      // that TLSSocket would misread).
      const { ca, cert, key, passphrase, rejectUnauthorized } = settings.tls;
      const secured = boundConnect(
        tls.connect({
          socket,
          host,
          ...(isAddress(host) ? {} : { servername: options.servername || host }),
          ...(ca !== undefined && { ca }),
          ...(cert !== undefined && { cert }),
          ...(key !== undefined && { key }),
          ...(passphrase !== undefined && { passphrase }),
          rejectUnauthorized: rejectUnauthorized !== false,
        }),
        left,
        'secureConnect',
      );
      const onError = (error: Error) => fail(error);
      secured.once('error', onError);
      secured.once('secureConnect', () => {
        secured.removeListener('error', onError);
        callback(null, secured);
      });
    },
    (error: Error) => fail(error),
  );
}

/** The members of Node's `Agent` that count its connections, which its type declarations make read-only or leave out. */
interface AgentPool {
  sockets: Record<string, unknown[] | undefined>;
  totalSocketCount: number;
  getName(options: ConnectionOptions): string;
  removeSocket(socket: unknown, options: ConnectionOptions): void;
}

/**
 * Holds a connection's place in the agent's pool while its tunnel opens. Node's agent counts a
 * connection once `createConnection` hands it over, which a tunnel does later: without a place held,
 * a burst would open a tunnel per request, past `maxSockets`. Released when the connection comes (the
 * agent then counts it itself), or freed when it fails, which lets the agent serve a waiting request.
 */
function holdPlace(agent: http.Agent, options: ConnectionOptions): (failed: boolean) => void {
  const pool = agent as unknown as AgentPool;
  const name = (options as { _agentKey?: string })._agentKey ?? pool.getName(options);
  const placeholder = new net.Socket();
  (pool.sockets[name] ??= []).push(placeholder);
  pool.totalSocketCount += 1;
  return (failed) => {
    if (failed) {
      pool.removeSocket(placeholder, options);
    } else {
      const list = pool.sockets[name];
      const index = list?.indexOf(placeholder) ?? -1;
      if (list !== undefined && index !== -1) {
        list.splice(index, 1);
        pool.totalSocketCount -= 1;
      }
    }
    placeholder.destroy();
  };
}

function isAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** `http://` through a SOCKS5 tunnel. */
class TunnelHttpAgent extends http.Agent {
  constructor(
    private readonly settings: HttpConnectionSettings,
    private readonly proxy: ProxyEndpoint,
  ) {
    super(agentOptions(settings));
  }

  override createConnection(options: ConnectionOptions, callback?: ConnectionCallback): Duplex {
    const release = holdPlace(this, options);
    tunnelConnection(this.proxy, this.settings, options, false, (error, socket) => {
      release(error !== null);
      callback?.(error, socket);
    });
    // Node's agent waits for the callback when no socket is returned.
    return undefined as unknown as Duplex;
  }
}

/** `https://` through a tunnel (`CONNECT` or SOCKS5), TLS end to end. */
class TunnelHttpsAgent extends https.Agent {
  constructor(
    private readonly settings: HttpConnectionSettings,
    private readonly proxy: ProxyEndpoint,
  ) {
    super({ ...settings.tls, ...agentOptions(settings) });
  }

  override createConnection(options: ConnectionOptions, callback?: ConnectionCallback): Duplex {
    const release = holdPlace(this, options);
    tunnelConnection(this.proxy, this.settings, options, true, (error, socket) => {
      release(error !== null);
      callback?.(error, socket);
    });
    return undefined as unknown as Duplex;
  }
}

/**
 * The agents of one resource: direct ones, and, with a proxy, the proxy's, chosen per request by the
 * URL's scheme and `NO_PROXY`. Each holds its own pool of kept-alive connections, capped at
 * `maxSockets` per server (the proxy, through a proxy).
 */
export class ResourceAgents {
  private readonly direct: RequestAgents;
  private readonly proxied: RequestAgents | undefined;

  constructor(
    settings: HttpConnectionSettings,
    private readonly proxy: ResolvedProxy | undefined,
  ) {
    this.direct = { httpAgent: new DirectHttpAgent(settings), httpsAgent: new DirectHttpsAgent(settings) };
    if (proxy !== undefined) {
      const viaHttp = proxy.http;
      const viaHttps = proxy.https;
      this.proxied = {
        httpAgent:
          viaHttp === undefined
            ? this.direct.httpAgent
            : viaHttp.type === 'SOCKS5'
              ? new TunnelHttpAgent(settings, viaHttp)
              : new ProxyHttpAgent(settings, viaHttp),
        httpsAgent: viaHttps === undefined ? this.direct.httpsAgent : new TunnelHttpsAgent(settings, viaHttps),
      };
    }
  }

  /** The agents for a request to `url`: through the proxy, unless it has none for the URL. */
  for(url: string): RequestAgents {
    if (this.proxied === undefined) {
      return this.direct;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return this.direct;
    }
    return proxyFor(this.proxy, parsed) === undefined ? this.direct : this.proxied;
  }

  /** What the proxies are, one line per scheme, host and port only (never the credentials). */
  describeProxies(): string[] {
    const proxy = this.proxy;
    if (proxy === undefined) {
      return [];
    }
    const lines: string[] = [];
    for (const scheme of ['https', 'http'] as const) {
      const endpoint = proxy[scheme];
      if (endpoint !== undefined) {
        lines.push(
          `${scheme}:// URLs through the ${endpoint.type} proxy ${authority(endpoint.host, endpoint.port)}` +
            `${endpoint.username === undefined ? '' : ' (with credentials)'}` +
            `${proxy.source === 'environment' ? ` (from the environment${proxy.noProxy.length > 0 ? ', NO_PROXY bypassed' : ''})` : ''}`,
        );
      }
    }
    return lines;
  }

  /** Closes every kept-alive connection. */
  destroy(): void {
    for (const agents of [this.direct, this.proxied]) {
      agents?.httpAgent.destroy();
      agents?.httpsAgent.destroy();
    }
  }
}
