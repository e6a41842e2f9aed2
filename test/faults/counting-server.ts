import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** How the counting server answers one request. */
export type CountingAnswer =
  /** A status and a JSON body, after `delayMs` (0 by default). */
  | { kind: 'answer'; status?: number; body?: unknown; delayMs?: number }
  /** Reads the request, never answers. */
  | { kind: 'hang' };

/**
 * A real HTTP authorization server on 127.0.0.1 that counts, on its own side, the connections open at
 * once (the highest count is `maxOpenConnections`) and the requests it received.
 */
export class CountingServer {
  /** Chooses the answer to a request, from its form token. */
  answerFor: (token: string | undefined) => CountingAnswer = () => ({ kind: 'answer', body: { active: true } });
  requests = 0;
  openConnections = 0;
  maxOpenConnections = 0;
  totalConnections = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  async start(): Promise<string> {
    const server = createServer((request, response) => void this.handle(request, response));
    server.keepAliveTimeout = 5000;
    server.maxConnections = 100_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      this.totalConnections += 1;
      this.openConnections += 1;
      this.maxOpenConnections = Math.max(this.maxOpenConnections, this.openConnections);
      socket.on('close', () => {
        this.openConnections -= 1;
        this.sockets.delete(socket);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Closes the connections kept alive from before, and forgets the counts. */
  async reset(): Promise<void> {
    const closed = [...this.sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await Promise.all(closed);
    this.requests = 0;
    this.maxOpenConnections = this.openConnections;
    this.totalConnections = 0;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) {
      chunks.push(chunk as Buffer);
    }
    this.requests += 1;
    const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token') ?? undefined;
    const answer = this.answerFor(token);
    if (answer.kind === 'hang') {
      return;
    }
    if (answer.delayMs) {
      await new Promise((resolve) => setTimeout(resolve, answer.delayMs).unref());
    }
    if (!response.destroyed) {
      response.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(answer.body ?? {}));
    }
  }
}

/**
 * A black hole on 127.0.0.1: accepts TCP connections and never sends a byte. Counts connections.
 */
export class BlackHoleServer {
  connections = 0;
  private server?: TcpServer;
  private readonly sockets = new Set<Socket>();

  async start(): Promise<string> {
    const server = createTcpServer((socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

/** Runs `work` for each item, at most `concurrency` at once. */
export async function inBatches<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}
