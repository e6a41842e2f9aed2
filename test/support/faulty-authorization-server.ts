import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * How the faulty server answers one request. Every fault is bounded: a stream stops at its size or
 * when the client hangs up, a drip stops after `maxBytes`, a hang ends when the client (or `stop()`)
 * closes the connection.
 */
export type Fault =
  /** A normal answer: a status, headers, and a body (an object is sent as JSON, a string or Buffer as is). */
  | { kind: 'answer'; status?: number; headers?: Record<string, string>; body?: unknown }
  /** The same, after a delay (on an unref'd timer: a test never waits for it). */
  | { kind: 'late'; delayMs: number; status?: number; body?: unknown }
  /** Reads the request, then never answers. */
  | { kind: 'hang' }
  /** Sends the status line, the headers and `prefix`, then resets the connection (TCP RST). */
  | { kind: 'reset-mid-answer'; prefix: string }
  /** Resets the connection as soon as the request is read, before any byte of answer. */
  | { kind: 'reset-before-answer' }
  /** Streams a 200 JSON-looking body of `totalBytes`, in chunks, as fast as the client reads. */
  | { kind: 'stream'; totalBytes: number; declareLength: boolean }
  /** Sends the headers, then one body byte every `intervalMs`, at most `maxBytes` of them. */
  | { kind: 'drip'; intervalMs: number; maxBytes: number }
  /** A 200 whose body is `compressed`, announced with `Content-Encoding: gzip`. */
  | { kind: 'gzip'; compressed: Buffer };

/** What the server saw of one request, and how much of its answer it could send. */
export interface FaultRecord {
  readonly path: string;
  readonly token: string | undefined;
  /** Body bytes written before the answer ended or the client went away. */
  bodyBytesSent: number;
}

const CHUNK = Buffer.alloc(64 * 1024, 'a');

/**
 * A real HTTP authorization server on 127.0.0.1 that misbehaves on command: each request gets the
 * fault that `faultFor(token, path)` chooses. Tracks its sockets so `stop()` can end hanging ones.
 */
export class FaultyAuthorizationServer {
  /** Chooses the fault of a request; by default every token is active. */
  faultFor: (token: string | undefined, path: string) => Fault = () => ({ kind: 'answer', body: { active: true } });
  readonly records: FaultRecord[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  /** Starts listening; resolves with the base URL. */
  async start(): Promise<string> {
    const server = createServer((request, response) => void this.handle(request, response));
    server.keepAliveTimeout = 2000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Requests to a path. */
  recordsTo(path: string): FaultRecord[] {
    return this.records.filter((record) => record.path === path);
  }

  /** Connections open now. */
  get openConnections(): number {
    return this.sockets.size;
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

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) {
      chunks.push(chunk as Buffer);
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const token = form.get('token') ?? url.searchParams.get('token') ?? undefined;
    const record: FaultRecord = { path: url.pathname, token, bodyBytesSent: 0 };
    this.records.push(record);
    const fault = this.faultFor(token, url.pathname);
    switch (fault.kind) {
      case 'answer':
        return send(response, record, fault.status ?? 200, fault.body, fault.headers);
      case 'late':
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs).unref());
        if (!response.destroyed) {
          send(response, record, fault.status ?? 200, fault.body);
        }
        return;
      case 'hang':
        return;
      case 'reset-mid-answer':
        response.writeHead(200, {
          'Content-Type': 'application/json',
          'Content-Length': String(fault.prefix.length + 1000),
        });
        response.write(fault.prefix);
        record.bodyBytesSent = fault.prefix.length;
        // Let the prefix reach the client before the RST.
        setTimeout(() => response.socket?.resetAndDestroy(), 20).unref();
        return;
      case 'reset-before-answer':
        response.socket?.resetAndDestroy();
        return;
      case 'stream':
        return stream(response, record, fault.totalBytes, fault.declareLength);
      case 'drip':
        return drip(response, record, fault.intervalMs, fault.maxBytes);
      case 'gzip':
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
        response.end(fault.compressed);
        record.bodyBytesSent = fault.compressed.length;
        return;
    }
  }
}

function send(
  response: ServerResponse,
  record: FaultRecord,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? {}));
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(payload);
  record.bodyBytesSent = payload.length;
}

/** Writes a huge body with backpressure, one shared chunk at a time, until done or the client leaves. */
async function stream(
  response: ServerResponse,
  record: FaultRecord,
  totalBytes: number,
  declareLength: boolean,
): Promise<void> {
  const head = Buffer.from('{"active":true,"pad":"');
  response.writeHead(200, {
    'Content-Type': 'application/json',
    ...(declareLength && { 'Content-Length': String(totalBytes) }),
  });
  let closed = false;
  const whenClosed = new Promise<void>((resolve) => response.once('close', resolve)).then(() => (closed = true));
  response.write(head);
  record.bodyBytesSent = head.length;
  while (!closed && record.bodyBytesSent < totalBytes) {
    const size = Math.min(CHUNK.length, totalBytes - record.bodyBytesSent);
    const flushed = response.write(size === CHUNK.length ? CHUNK : CHUNK.subarray(0, size));
    record.bodyBytesSent += size;
    if (!flushed) {
      await Promise.race([new Promise<void>((resolve) => response.once('drain', resolve)), whenClosed]);
    }
  }
  if (!closed) {
    response.end();
  }
}

async function drip(
  response: ServerResponse,
  record: FaultRecord,
  intervalMs: number,
  maxBytes: number,
): Promise<void> {
  response.writeHead(200, { 'Content-Type': 'application/json' });
  const body = '{"active":true,"pad":"' + 'a'.repeat(maxBytes);
  for (let index = 0; index < maxBytes && !response.destroyed; index += 1) {
    response.write(body[index]);
    record.bodyBytesSent += 1;
    await new Promise((resolve) => setTimeout(resolve, intervalMs).unref());
  }
  if (!response.destroyed) {
    response.end();
  }
}

/**
 * A TCP server on 127.0.0.1 that accepts connections and never says a word: not even an HTTP status
 * line. Counts the connections it accepted.
 */
export class SilentTcpServer {
  accepted = 0;
  private server?: TcpServer;
  private readonly sockets = new Set<Socket>();

  async start(): Promise<string> {
    const server = createTcpServer((socket) => {
      this.accepted += 1;
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
      // Reads (and drops) the request, so that the client's write completes and it waits for an answer.
      socket.resume();
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Connections open now. */
  get openConnections(): number {
    return this.sockets.size;
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
}
