import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  type AddressInfo,
  type Server as NetServer,
  type Socket,
  connect,
  createServer as createNetServer,
} from 'node:net';

/** What a forward proxy saw: each request in absolute form, each CONNECT, and the credentials sent. */
export interface ProxiedRequest {
  readonly method: string;
  /** The absolute URL of a forwarded request, or `host:port` of a CONNECT. */
  readonly target: string;
  readonly proxyAuthorization: string | undefined;
  /** Whether the proxy let it through. */
  readonly allowed: boolean;
}

/**
 * A real forward proxy on 127.0.0.1 (a port the system picks), for tests: forwards requests in
 * absolute form (`GET http://host/path`) and opens `CONNECT` tunnels, to 127.0.0.1 only; with
 * `credentials`, it requires them as `Proxy-Authorization: Basic` and answers 407 otherwise. Records
 * what it saw, the client connections it accepted, and the most open at once.
 */
export class ForwardProxy {
  readonly seen: ProxiedRequest[] = [];
  /** Client connections accepted in all. */
  connections = 0;
  /** Most client connections open at once. */
  maxOpen = 0;
  private open = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly credentials?: { username: string; password: string }) {}

  async start(): Promise<string> {
    const server = createServer((request, response) => this.forward(request, response));
    server.keepAliveTimeout = 5000;
    server.on('connection', (socket: Socket) => {
      this.connections += 1;
      this.open += 1;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      this.sockets.add(socket);
      socket.on('close', () => {
        this.open -= 1;
        this.sockets.delete(socket);
      });
    });
    server.on('connect', (request: IncomingMessage, socket: Socket, head: Buffer) =>
      this.tunnel(request, socket, head),
    );
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  reset(): void {
    this.seen.length = 0;
    this.connections = 0;
    this.maxOpen = this.open;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) {
      return;
    }
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private authorized(request: IncomingMessage): boolean {
    if (this.credentials === undefined) {
      return true;
    }
    const expected = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    return request.headers['proxy-authorization'] === expected;
  }

  private record(request: IncomingMessage, target: string, allowed: boolean): void {
    this.seen.push({
      method: request.method ?? '',
      target,
      proxyAuthorization: request.headers['proxy-authorization'],
      allowed,
    });
  }

  private forward(request: IncomingMessage, response: ServerResponse): void {
    const target = request.url ?? '';
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      this.record(request, target, false);
      response.writeHead(400).end();
      return;
    }
    const allowed = this.authorized(request) && url.hostname === '127.0.0.1';
    this.record(request, target, allowed);
    if (!allowed) {
      response.writeHead(this.authorized(request) ? 403 : 407, { 'Proxy-Authenticate': 'Basic realm="proxy"' }).end();
      return;
    }
    const headers = { ...request.headers };
    delete headers['proxy-authorization'];
    const upstream = httpRequest(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: request.method, headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.writeHead(502).end());
    request.pipe(upstream);
  }

  private tunnel(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const target = request.url ?? '';
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    if (!this.authorized(request)) {
      this.record(request, target, false);
      socket.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    if (host !== '127.0.0.1') {
      this.record(request, target, false);
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.record(request, target, true);
    const upstream = connect({ host, port }, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) {
        upstream.write(head);
      }
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
  }
}

/**
 * A real SOCKS5 proxy on 127.0.0.1 (RFC 1928 CONNECT, with RFC 1929 user name and password when
 * `credentials` are given), to 127.0.0.1 only. Records the destinations it opened.
 */
export class Socks5Proxy {
  readonly destinations: string[] = [];
  private server?: NetServer;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly credentials?: { username: string; password: string }) {}

  async start(): Promise<number> {
    const server = createNetServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      void this.handshake(socket).catch(() => socket.destroy());
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handshake(socket: Socket): Promise<void> {
    let buffered = Buffer.alloc(0);
    let wake: (() => void) | undefined;
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      wake?.();
    };
    socket.on('data', onData);
    const read = async (count: number): Promise<Buffer> => {
      const deadline = Date.now() + 2000;
      while (buffered.length < count) {
        if (Date.now() > deadline) {
          throw new Error('handshake too slow');
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      const bytes = buffered.subarray(0, count);
      buffered = buffered.subarray(count);
      return bytes;
    };
    const [, methodCount] = await read(2);
    const methods = [...(await read(methodCount))];
    const wanted = this.credentials === undefined ? 0 : 2;
    if (!methods.includes(wanted)) {
      socket.end(Buffer.from([5, 0xff]));
      return;
    }
    socket.write(Buffer.from([5, wanted]));
    if (wanted === 2) {
      const [, userLength] = await read(2);
      const user = (await read(userLength)).toString('utf8');
      const [passwordLength] = await read(1);
      const password = (await read(passwordLength)).toString('utf8');
      const ok = user === this.credentials?.username && password === this.credentials?.password;
      socket.write(Buffer.from([1, ok ? 0 : 1]));
      if (!ok) {
        socket.end();
        return;
      }
    }
    const [, command, , kind] = await read(4);
    const host =
      kind === 1
        ? [...(await read(4))].join('.')
        : kind === 3
          ? (await read((await read(1))[0])).toString('utf8')
          : 'unsupported';
    const portBytes = await read(2);
    const port = (portBytes[0] << 8) | portBytes[1];
    if (command !== 1 || host !== '127.0.0.1') {
      socket.end(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]));
      return;
    }
    this.destinations.push(`${host}:${port}`);
    const upstream = connect({ host, port }, () => {
      socket.removeListener('data', onData);
      socket.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
      if (buffered.length > 0) {
        upstream.write(buffered);
      }
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  }
}

/** A loopback port where nothing listens: a proxy that is down. */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
