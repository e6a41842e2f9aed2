import { createServer, type Server, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** A request the HTTPS server received, with the client certificate it was sent with, if any. */
export interface TlsReceivedRequest {
  readonly path: string;
  readonly form: URLSearchParams;
  readonly authorization: string | undefined;
  /** The common name of the client certificate, when the client presented one. */
  readonly clientCertificateCN: string | undefined;
}

/**
 * A real HTTPS introspection server on 127.0.0.1 with the TLS options a test gives it (its certificate,
 * and for mutual TLS the CA of the client certificates it requires). Answers `active: true` for the
 * token `good`, `active: false` otherwise. Counts the TLS handshakes that failed.
 */
export class HttpsIntrospectionServer {
  readonly requests: TlsReceivedRequest[] = [];
  /** Connections whose TLS handshake failed, on the server's side. */
  failedHandshakes = 0;
  private server?: Server;

  constructor(
    private readonly tls: ServerOptions,
    /** How long the server keeps an idle connection; Node's client keeps none the server says it closes within 2 s. */
    private readonly keepAliveTimeoutMs = 1000,
  ) {}

  async start(): Promise<string> {
    const server = createServer(this.tls, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'https://127.0.0.1');
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const peer = (request.socket as TLSSocket).getPeerCertificate();
        this.requests.push({
          path: url.pathname,
          form,
          authorization: request.headers.authorization,
          clientCertificateCN: peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined,
        });
        const active = form.get('token') === 'good';
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(
          JSON.stringify(active ? { active: true, client_id: 'orders-api', scope: 'orders:read' } : { active: false }),
        );
      });
    });
    server.keepAliveTimeout = this.keepAliveTimeoutMs;
    server.on('tlsClientError', () => {
      this.failedHandshakes += 1;
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `https://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) {
      return;
    }
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
