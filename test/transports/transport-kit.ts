import { type INestApplication, type INestMicroservice, type ModuleMetadata } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy, Transport } from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { createServer, type AddressInfo } from 'node:net';
import { firstValueFrom, timeout } from 'rxjs';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { AdapterName } from '../support/http-adapters';

/** How long a test waits for one answer of a transport before it fails (bounded, well under jest's timeout). */
export const ANSWER_MS = 3000;

/** Waits for one event of an emitter, or fails after `ms`. */
export function nextEvent<T = unknown>(
  emitter: { once(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
  ms = ANSWER_MS,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event within ${ms} ms`)), ms);
    emitter.once(event, ((value: T) => {
      clearTimeout(timer);
      resolve(value);
    }) as (...args: never[]) => void);
  });
}

/** Resolves `true` if the event comes within `ms`, `false` otherwise (for "nothing happens" checks). */
export function eventWithin(
  emitter: { once(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
  ms: number,
): Promise<boolean> {
  return nextEvent(emitter, event, ms).then(
    () => true,
    () => false,
  );
}

/**
 * A Nest application on Express or Fastify, with a WebSocket adapter, listening on 127.0.0.1 (a port the
 * system picks). `configure` runs before `init()` (as `main.ts` would: microservices, filters).
 */
export async function startWsApp(
  adapter: AdapterName,
  wsAdapter: 'socket.io' | 'ws',
  metadata: ModuleMetadata,
  configure?: (app: INestApplication) => void,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger: false })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  app.useWebSocketAdapter(wsAdapter === 'socket.io' ? new IoAdapter(app) : new WsAdapter(app));
  configure?.(app);
  await app.init();
  await app.listen(0, '127.0.0.1');
  return app;
}

/** The base URL of a listening application. */
export function appUrl(app: INestApplication, scheme: 'http' | 'ws' = 'http'): string {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return `${scheme}://127.0.0.1:${port}`;
}

/** What a socket.io client sends at the handshake. */
export interface SocketIoCredentials {
  authorization?: string;
  authToken?: string;
}

/**
 * A socket.io client over the WebSocket transport only (so that `extraHeaders` go with the upgrade
 * request), never reconnecting. The caller closes it.
 */
export function socketIoClient(baseUrl: string, namespace: string, credentials: SocketIoCredentials = {}): Socket {
  return io(`${baseUrl}${namespace}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: ANSWER_MS,
    ...(credentials.authorization !== undefined && { extraHeaders: { Authorization: credentials.authorization } }),
    ...(credentials.authToken !== undefined && { auth: { token: credentials.authToken } }),
  });
}

/** Connects a socket.io client; rejects with the `connect_error` error. */
export function connected(socket: Socket): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection within ${ANSWER_MS} ms`)), ANSWER_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Tracks clients and sockets so that `afterEach` closes every one. */
export class ClientTracker {
  private readonly closers: (() => unknown)[] = [];

  socketIo(socket: Socket): Socket {
    this.closers.push(() => socket.close());
    return socket;
  }

  ws(socket: WebSocket): WebSocket {
    this.closers.push(() => socket.terminate());
    return socket;
  }

  proxy(client: ClientProxy): ClientProxy {
    this.closers.push(() => client.close());
    return client;
  }

  async closeAll(): Promise<void> {
    const closers = this.closers.splice(0);
    await Promise.all(closers.map((close) => Promise.resolve(close()).catch(() => undefined)));
  }
}

/** A `ws` client; resolves when open, rejects on an error or after {@link ANSWER_MS}. */
export function openWs(url: string, authorization?: string): Promise<WebSocket> {
  const socket = new WebSocket(url, authorization === undefined ? {} : { headers: { Authorization: authorization } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no open within ${ANSWER_MS} ms`));
    }, ANSWER_MS);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The close frame a `ws` client gets: its code and reason; rejects after {@link ANSWER_MS}. */
export function closeFrame(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no close within ${ANSWER_MS} ms`)), ANSWER_MS);
    socket.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString('utf8') });
    });
  });
}

/** A port on 127.0.0.1 that the system gave and released (for a TCP microservice to listen on). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A real TCP `ClientProxy` to a microservice on 127.0.0.1. */
export function tcpClient(port: number): ClientProxy {
  return ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
}

/** The answer of `client.send(pattern, data)`, or what its Observable errored with (as `{ error }`). */
export async function sendAndSettle(
  client: ClientProxy,
  pattern: string,
  data: unknown,
): Promise<{ answer?: unknown; error?: unknown }> {
  try {
    return { answer: await firstValueFrom(client.send(pattern, data).pipe(timeout(ANSWER_MS))) };
  } catch (error) {
    return { error };
  }
}

/** A standalone TCP microservice on 127.0.0.1 and a free port. */
export async function startTcpMicroservice(
  metadata: ModuleMetadata,
): Promise<{ microservice: INestMicroservice; port: number }> {
  const port = await freePort();
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const microservice = moduleRef.createNestMicroservice({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: false,
  });
  await microservice.listen();
  return { microservice, port };
}

/** Records what handlers were called with, to check that a rejected call never reached one. */
export class Calls {
  readonly seen: { handler: string; value: unknown }[] = [];
  record(handler: string, value: unknown = undefined): void {
    this.seen.push({ handler, value });
  }
  of(handler: string): unknown[] {
    return this.seen.filter((call) => call.handler === handler).map((call) => call.value);
  }
  clear(): void {
    this.seen.length = 0;
  }
}

/**
 * `it`, where the test applies; otherwise the test is not registered at all (rather than counted as
 * skipped): for tests that run on one adapter or one Nest major only, by design.
 */
export function itWhen(condition: boolean): (name: string, fn: () => Promise<void>) => void {
  return condition ? (name, fn) => it(name, fn) : () => undefined;
}

/** `describe`, where the block applies; otherwise nothing is registered (see {@link itWhen}). */
export function describeWhen(condition: boolean): (name: string, fn: () => void) => void {
  return condition ? (name, fn) => describe(name, fn) : () => undefined;
}
