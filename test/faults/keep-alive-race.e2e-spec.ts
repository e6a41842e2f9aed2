import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module } from '../../lib';
import { ADAPTERS, startApp } from '../support/http-adapters';

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read() {
    return { ok: true };
  }
}

/**
 * An introspection server that plays the keep-alive race: it answers the first request of each
 * connection, and drops the connection when a second request comes on it, as a server does that
 * closes an idle connection just as the client reuses it. The token `always-reset` is dropped on
 * every connection.
 */
class RacingServer {
  readonly seen: Array<{ connection: number; token: string | null; answered: boolean }> = [];
  private server?: Server;
  private readonly connections = new WeakMap<Socket, { id: number; requests: number }>();
  private nextConnection = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) {
      body += String(chunk);
    }
    const token = new URLSearchParams(body).get('token');
    let connection = this.connections.get(req.socket);
    if (!connection) {
      connection = { id: (this.nextConnection += 1), requests: 0 };
      this.connections.set(req.socket, connection);
    }
    connection.requests += 1;
    const answered = connection.requests === 1 && token !== 'always-reset';
    this.seen.push({ connection: connection.id, token, answered });
    if (!answered) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'keep-alive' });
    res.end(JSON.stringify({ active: true, client_id: 'c' }));
  }
}

describe.each(ADAPTERS)('a kept-alive connection closed by the authorization server, on %s', (adapter) => {
  const server = new RacingServer();
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [{ name: 'as', type: 'generic', introspectionEndpoint: `${url}/introspect`, timeout: 2000 }],
          policy: { oauthResource: 'as' },
        }),
      ],
      controllers: [DataController],
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });
  beforeEach(() => {
    server.seen.length = 0;
  });

  it('costs the request nothing: it is sent again once, on a new connection', async () => {
    await request(app.getHttpServer()).get('/data').set('Authorization', 'Bearer first').expect(200);
    await request(app.getHttpServer()).get('/data').set('Authorization', 'Bearer second').expect(200);
    const second = server.seen.filter((entry) => entry.token === 'second');
    expect(second).toHaveLength(2);
    expect(second[0].answered).toBe(false);
    expect(second[1].answered).toBe(true);
    expect(second[1].connection).not.toBe(second[0].connection);
  });

  it('is tried once only: a server that drops every attempt is unavailable', async () => {
    await request(app.getHttpServer()).get('/data').set('Authorization', 'Bearer warm').expect(200);
    const response = await request(app.getHttpServer()).get('/data').set('Authorization', 'Bearer always-reset');
    expect(response.status).toBe(403);
    expect(response.body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
    expect(server.seen.filter((entry) => entry.token === 'always-reset')).toHaveLength(2);
  });
});
