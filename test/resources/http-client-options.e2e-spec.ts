import { Controller, type ExecutionContext, Get, type INestApplication, UseGuards } from '@nestjs/common';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, type Server as NetServer, type Socket, createServer as createNetServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Policy } from '../../lib';
import { genericResource, sleep } from '../support/guard-e2e-helpers';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';

/**
 * Issue 17, point 2: a resource's HTTP client options (Gravitee's `http` names) against real loopback
 * servers: connectTimeout bounds the connection (TLS handshake included), idleTimeout closes unused
 * kept-alive connections, keepAlive: false opens one per call, useCompression asks for compressed
 * answers or not, and maxResponseBytes bounds an answer after decompression (a gzip bomb).
 */

/** An introspection server that counts connections and gzips its answer when asked to. */
class CountingServer {
  connections = 0;
  readonly acceptEncodings: (string | undefined)[] = [];
  /** A body to send instead of `{ active: true }`, gzipped. */
  bomb = false;
  private server?: Server;

  async start(): Promise<string> {
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      request.resume();
      request.on('end', () => {
        const accept = request.headers['accept-encoding'];
        this.acceptEncodings.push(accept);
        if (this.bomb) {
          // 4 MiB of spaces inside a JSON object, about 4 KiB gzipped.
          const body = gzipSync(Buffer.from(`{"active":true,"x":"${' '.repeat(4 * 1024 * 1024)}"}`));
          response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }).end(body);
          return;
        }
        const json = Buffer.from(JSON.stringify({ active: true, client_id: 'c1' }));
        if (typeof accept === 'string' && accept.includes('gzip')) {
          response
            .writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })
            .end(gzipSync(json));
        } else {
          response.writeHead(200, { 'Content-Type': 'application/json' }).end(json);
        }
      });
    });
    // Longer than the test waits: only the client closes idle connections here.
    server.keepAliveTimeout = 10_000;
    server.on('connection', () => {
      this.connections += 1;
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.connections = 0;
    this.acceptEncodings.length = 0;
    this.bomb = false;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

const fromPath = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ params?: Record<string, string> }>().params?.resource;

@Controller('via')
@UseGuards(OAuth2Guard)
class ViaController {
  @Get(':resource')
  @OAuth2Policy({ oauthResource: fromPath })
  ok() {
    return { ok: true };
  }
}

const counting = new CountingServer();
let countingUrl = '';
/** Accepts TCP connections and never says a word: a TLS handshake there never ends. */
let mute: NetServer;
const muteSockets = new Set<Socket>();
let muteUrl = '';

beforeAll(async () => {
  countingUrl = await counting.start();
  mute = createNetServer((socket) => {
    muteSockets.add(socket);
    socket.on('close', () => muteSockets.delete(socket));
  });
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
  muteUrl = `https://127.0.0.1:${(mute.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await counting.stop();
  for (const socket of muteSockets) {
    socket.destroy();
  }
  await new Promise<void>((resolve) => mute.close(() => resolve()));
});

describe.each(ADAPTERS)('HTTP client options on %s', (adapter) => {
  let app: INestApplication;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    app = await startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [
              genericResource('default', countingUrl),
              genericResource('idle', countingUrl, { http: { idleTimeout: 150 } }),
              genericResource('no-keep-alive', countingUrl, { http: { keepAlive: false } }),
              genericResource('uncompressed', countingUrl, { http: { useCompression: false } }),
              genericResource('bounded', countingUrl, { maxResponseBytes: 65_536 }),
              genericResource('mute', muteUrl, { timeout: 3000, http: { connectTimeout: 200 }, circuitBreaker: false }),
            ],
          }),
        ],
        controllers: [ViaController],
      },
      logger,
    );
  });
  afterAll(() => app.close());
  beforeEach(() => counting.reset());

  // Distinct tokens: nothing is cached without a cache resource, but each call is its own introspection.
  let sequence = 0;
  async function call(resource: string) {
    sequence += 1;
    return request(app.getHttpServer()).get(`/via/${resource}`).set('Authorization', `Bearer t${sequence}`);
  }

  it('keeps a connection alive between calls by default, and asks for compressed answers', async () => {
    expect((await call('default')).status).toBe(200);
    await sleep(300);
    expect((await call('default')).status).toBe(200);
    expect(counting.connections).toBe(1);
    expect(counting.acceptEncodings[0]).toMatch(/gzip/);
  });

  it('idleTimeout closes a connection left unused for that long', async () => {
    expect((await call('idle')).status).toBe(200);
    expect((await call('idle')).status).toBe(200);
    expect(counting.connections).toBe(1);
    await sleep(400);
    expect((await call('idle')).status).toBe(200);
    expect(counting.connections).toBe(2);
  });

  it('keepAlive: false opens a connection per call', async () => {
    for (let index = 0; index < 3; index += 1) {
      expect((await call('no-keep-alive')).status).toBe(200);
    }
    expect(counting.connections).toBe(3);
  });

  it('useCompression: false asks for no compression', async () => {
    expect((await call('uncompressed')).status).toBe(200);
    expect(counting.acceptEncodings).toEqual(['identity']);
  });

  it('maxResponseBytes bounds the answer after decompression (a gzip bomb)', async () => {
    counting.bomb = true;
    const response = await call('bounded');
    expect(response.body.key).toBe('OAUTH2_INVALID_SERVER_RESPONSE');
  });

  it('connectTimeout bounds the connection, TLS handshake included, within the call timeout', async () => {
    const started = Date.now();
    const response = await call('mute');
    expect(response.body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(
      logger.lines.some(
        (line) => line.includes("resource 'mute'") && line.includes('did not accept a connection within 200 ms'),
      ),
    ).toBe(true);
  });
});
