import * as net from 'node:net';

/** A forward proxy, resolved from a resource's `proxy` option or from the environment. */
export interface ProxyEndpoint {
  readonly type: 'HTTP' | 'SOCKS5';
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
}

/**
 * A failure on the way through a proxy. Its message names the proxy's host and port and what went
 * wrong, never the credentials; `code` is what the resource's log line reports.
 */
export class ProxyTunnelError extends Error {
  /** Marks the failure as the proxy's, for the resource's reason (see describeFailure). */
  readonly viaProxy = true;

  constructor(
    readonly code: string,
    message: string,
    /** The proxy's status (HTTP) or reply code (SOCKS5), when it answered. */
    readonly proxyStatus?: number,
  ) {
    super(message);
    this.name = 'ProxyTunnelError';
  }
}

/** The value of `Proxy-Authorization` (RFC 9110 §11.7.1, Basic), or none without a user name. */
export function proxyAuthorization(proxy: ProxyEndpoint): string | undefined {
  if (proxy.username === undefined) {
    return undefined;
  }
  return `Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`, 'utf8').toString('base64')}`;
}

/** `host:port` as a request target or Host value, an IPv6 address in brackets. */
export function authority(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** Most bytes of a proxy's answer to CONNECT read before giving up on it: a status line and a few headers. */
const MAX_CONNECT_ANSWER_BYTES = 16 * 1024;

/**
 * Opens a TCP connection to `host:port` through a proxy: `CONNECT` for an HTTP proxy (RFC 9110
 * §9.3.6), the CONNECT command for SOCKS5 (RFC 1928, with RFC 1929's user name and password when
 * given). Resolves with the socket once the tunnel is open, bytes then go to the destination as they
 * are; whatever runs over it (TLS included) is the caller's. Rejects within `timeoutMs`.
 */
export function openTunnel(proxy: ProxyEndpoint, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    const where = `proxy ${authority(proxy.host, proxy.port)}`;
    let settled = false;
    const settle = (error: Error | undefined) => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (error === undefined) {
        resolve(socket);
      } else {
        socket.destroy();
        reject(error);
      }
    };
    const onError = (error: NodeJS.ErrnoException) =>
      settle(
        new ProxyTunnelError(error.code ?? 'ECONNREFUSED', `${where} could not be reached (${error.code ?? 'error'})`),
      );
    const onClose = () =>
      settle(new ProxyTunnelError('ECONNRESET', `${where} closed the connection before the tunnel was open`));
    const timer = setTimeout(
      () => settle(new ProxyTunnelError('ETIMEDOUT', `${where} did not open a tunnel within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('connect', () => {
      const opened =
        proxy.type === 'SOCKS5' ? socks5Handshake(socket, proxy, host, port) : httpConnect(socket, proxy, host, port);
      opened.then(
        () => settle(undefined),
        (error: Error) => settle(error),
      );
    });
  });
}

/** Sends `CONNECT host:port` and waits for the proxy's 2xx. */
async function httpConnect(socket: net.Socket, proxy: ProxyEndpoint, host: string, port: number): Promise<void> {
  const target = authority(host, port);
  const credentials = proxyAuthorization(proxy);
  socket.write(
    `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n` +
      (credentials === undefined ? '' : `Proxy-Authorization: ${credentials}\r\n`) +
      '\r\n',
  );
  const reader = new SocketReader(socket);
  const header = await reader.through('\r\n\r\n', MAX_CONNECT_ANSWER_BYTES, () => proxyRefusal(proxy, undefined));
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(header.toString('latin1'))?.[1]);
  if (!(status >= 200 && status < 300)) {
    throw proxyRefusal(proxy, Number.isFinite(status) ? status : undefined);
  }
  // Bytes past the proxy's header belong to the destination (none are expected before we speak).
  reader.release();
}

/** The error of a proxy that answered with a refusal: what to check, never the credentials. */
function proxyRefusal(proxy: ProxyEndpoint, status: number | undefined): ProxyTunnelError {
  const where = `proxy ${authority(proxy.host, proxy.port)}`;
  if (status === 407) {
    return new ProxyTunnelError(
      'ERR_PROXY_AUTH',
      `${where} refused our credentials (407): check proxy.username and proxy.password`,
      status,
    );
  }
  return new ProxyTunnelError(
    'ERR_PROXY_REFUSED',
    `${where} refused the tunnel (${status === undefined ? 'not an HTTP answer' : `status ${status}`})`,
    status,
  );
}

/** SOCKS5's greeting, optional user name and password, and CONNECT to a domain name or an address. */
async function socks5Handshake(socket: net.Socket, proxy: ProxyEndpoint, host: string, port: number): Promise<void> {
  const reader = new SocketReader(socket);
  const where = `proxy ${authority(proxy.host, proxy.port)}`;
  const withPassword = proxy.username !== undefined;
  // Offer "no authentication" only when we have no credentials, so that a proxy cannot pick it over them.
  socket.write(Buffer.from(withPassword ? [5, 1, 2] : [5, 1, 0]));
  const [version, method] = await reader.exactly(2);
  if (version !== 5 || method !== (withPassword ? 2 : 0)) {
    throw new ProxyTunnelError(
      method === 2 ? 'ERR_PROXY_AUTH' : 'ERR_PROXY_REFUSED',
      method === 2
        ? `${where} requires a user name and password: set proxy.username and proxy.password`
        : `${where} accepts none of our authentication methods`,
    );
  }
  if (withPassword) {
    const user = Buffer.from(proxy.username ?? '', 'utf8');
    const password = Buffer.from(proxy.password ?? '', 'utf8');
    socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([password.length]), password]));
    const [, status] = await reader.exactly(2);
    if (status !== 0) {
      throw new ProxyTunnelError(
        'ERR_PROXY_AUTH',
        `${where} refused our credentials: check proxy.username and proxy.password`,
      );
    }
  }
  const family = net.isIP(host);
  const address =
    family === 4
      ? Buffer.from([1, ...host.split('.').map(Number)])
      : family === 6
        ? Buffer.concat([Buffer.from([4]), ipv6Bytes(host)])
        : Buffer.concat([Buffer.from([3, Buffer.byteLength(host)]), Buffer.from(host, 'utf8')]);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, Buffer.from([port >> 8, port & 0xff])]));
  const [, reply, , kind] = await reader.exactly(4);
  if (reply !== 0) {
    throw new ProxyTunnelError('ERR_PROXY_REFUSED', `${where} refused the tunnel (SOCKS5 reply ${reply})`, reply);
  }
  // The bound address, which we do not need, then the port.
  const length = kind === 1 ? 4 : kind === 4 ? 16 : (await reader.exactly(1))[0];
  await reader.exactly(length + 2);
  reader.release();
}

/**
 * Reads a handshake from a socket in paused mode (`read()` on `readable`), so that no byte meant for
 * what runs over the tunnel is consumed: what was read past the handshake goes back with `release()`.
 */
class SocketReader {
  private buffered = Buffer.alloc(0);

  constructor(private readonly socket: net.Socket) {}

  /** The next `count` bytes. */
  async exactly(count: number): Promise<Buffer> {
    while (this.buffered.length < count) {
      await this.more();
    }
    return this.take(count);
  }

  /** The bytes up to and including `marker`; `overlong()` is thrown past `max` bytes without it. */
  async through(marker: string, max: number, overlong: () => Error): Promise<Buffer> {
    for (;;) {
      const index = this.buffered.indexOf(marker);
      if (index !== -1) {
        return this.take(index + marker.length);
      }
      if (this.buffered.length > max) {
        throw overlong();
      }
      await this.more();
    }
  }

  /** Gives the bytes read but not taken back to the socket. */
  release(): void {
    if (this.buffered.length > 0) {
      this.socket.unshift(this.buffered);
      this.buffered = Buffer.alloc(0);
    }
  }

  private take(count: number): Buffer {
    const bytes = this.buffered.subarray(0, count);
    this.buffered = this.buffered.subarray(count);
    return bytes;
  }

  private async more(): Promise<void> {
    for (;;) {
      const chunk = this.socket.read() as Buffer | null;
      if (chunk !== null) {
        this.buffered = Buffer.concat([this.buffered, chunk]);
        return;
      }
      // An end or a close rejects the tunnel in openTunnel(); this wait is then left behind.
      await new Promise<void>((resolve) => this.socket.once('readable', resolve));
    }
  }
}

/** The 16 bytes of an IPv6 address. */
function ipv6Bytes(address: string): Buffer {
  const [head, tail = ''] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = groups(tail);
  const all = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return Buffer.from(all.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff]));
}
