import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the scripted server received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  form: URLSearchParams;
}

/** What the scripted server answers: a status and a body (an object is sent as JSON), or a delay first. */
export interface ScriptedAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Decides the answer to a request; the default answers from `tokens`. */
export type Script = (request: ReceivedRequest, token: string | undefined) => ScriptedAnswer | Promise<ScriptedAnswer>;

/**
 * A real HTTP introspection server on 127.0.0.1 (a port the system picks), answering as the test
 * scripts it, and recording every request.
 */
export class ScriptedIntrospectionServer {
  readonly requests: ReceivedRequest[] = [];
  /** Payloads by token; a token not listed is inactive. */
  readonly tokens = new Map<string, Record<string, unknown>>();
  script: Script = (_request, token) => {
    const payload = token === undefined ? undefined : this.tokens.get(token);
    return { status: 200, body: payload ?? { active: false } };
  };
  private server?: Server;

  /** Starts listening; resolves with the base URL. */
  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Requests to a path, e.g. `/introspect`. */
  requestsTo(path: string): ReceivedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  reset(): void {
    this.requests.length = 0;
    this.tokens.clear();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) {
      return;
    }
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) {
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const form = new URLSearchParams(
      String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded') ? body : '',
    );
    const received: ReceivedRequest = {
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
      form,
    };
    this.requests.push(received);
    const token = form.get('token') ?? url.searchParams.get('token') ?? undefined;
    const answer = await this.script(received, token);
    if (answer.delayMs) {
      await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    }
    const payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
    response.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json', ...answer.headers });
    response.end(payload);
  }
}
