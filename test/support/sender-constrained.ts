import { type INestApplication, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { AdapterName } from './http-adapters';

/**
 * Helpers of the sender-constrained tests (test/sender-constrained): the real authorization server of
 * test/support/sender-constrained-provider.mjs in a child process, Nest applications on their own HTTPS
 * server asking for client certificates, and HTTPS requests that present one.
 */

/** Every bounded wait of these helpers. */
const WAIT_MS = 15_000;

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** The running provider: its addresses and clients. */
export interface SenderConstrainedProvider {
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly introspectionUrl: string;
  readonly jwksUrl: string;
  readonly clients: {
    readonly bound: ClientCredentials;
    readonly plain: ClientCredentials;
    readonly jsonResourceServer: ClientCredentials;
    readonly jwtResourceServer: ClientCredentials;
  };
  stop(): Promise<void>;
}

/** Starts the provider in a child process and waits for its JSON line. */
export async function startSenderConstrainedProvider(): Promise<SenderConstrainedProvider> {
  const child = spawn(process.execPath, [join(process.cwd(), 'test', 'support', 'sender-constrained-provider.mjs')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`the provider did not start in ${WAIT_MS} ms: ${stderr}`)),
      WAIT_MS,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const end = stdout.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(stdout.slice(0, end));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the provider exited (${code}): ${stderr}`));
    });
  });
  const described = JSON.parse(line) as Omit<SenderConstrainedProvider, 'stop'>;
  return {
    ...described,
    stop: async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** RFC 9440 `Client-Cert` value of a PEM certificate: `:base64(DER):`. */
export function clientCertHeader(certPem: string): string {
  return `:${new X509Certificate(certPem).raw.toString('base64')}:`;
}

/** RFC 8705 `x5t#S256` of a PEM certificate. */
export function thumbprintOf(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('base64url');
}

/**
 * A client_credentials token from the provider; bound to `certPem` when the client is registered for
 * bound tokens (the certificate reaches the provider as its TLS-terminating proxy would pass it).
 */
export async function obtainToken(
  provider: SenderConstrainedProvider,
  client: ClientCredentials,
  certPem?: string,
): Promise<string> {
  const response = await fetch(provider.tokenUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(certPem !== undefined && { 'Client-Cert': clientCertHeader(certPem) }),
    },
    body: 'grant_type=client_credentials',
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`the provider gave no token (HTTP ${response.status})`);
  }
  return body.access_token;
}

/** The TLS material of Nest's own HTTPS server. */
export interface ServerTls {
  readonly key: string;
  readonly cert: string;
  /** The CA of the client certificates the server asks for (any certificate is let through the handshake). */
  readonly ca: string;
}

/**
 * A Nest application on its own HTTPS server that asks every client for a certificate and lets the
 * handshake through without one (`requestCert`, `rejectUnauthorized: false`), on 127.0.0.1.
 */
export async function startHttpsApp(
  adapter: AdapterName,
  metadata: ModuleMetadata,
  tls: ServerTls,
  logger: LoggerService | false = false,
): Promise<INestApplication> {
  const httpsOptions = { ...tls, requestCert: true, rejectUnauthorized: false };
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger, httpsOptions })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ https: httpsOptions }), {
          logger,
        });
  if (logger) {
    app.useLogger(logger);
  }
  await app.init();
  if (adapter === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  await app.listen(0, '127.0.0.1');
  return app;
}

/** An answer of {@link httpsGet}. */
export interface HttpsAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * A GET over HTTPS to an application on 127.0.0.1, on a connection of its own (no session reuse between
 * certificates), presenting `client` when given.
 */
export function httpsGet(
  app: INestApplication,
  path: string,
  options: {
    readonly ca: string;
    readonly token?: string;
    readonly client?: { readonly cert: string; readonly key: string };
    readonly headers?: Record<string, string>;
  },
): Promise<HttpsAnswer> {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        agent: false,
        ca: options.ca,
        ...(options.client && { cert: options.client.cert, key: options.client.key }),
        headers: {
          ...(options.token !== undefined && { Authorization: `Bearer ${options.token}` }),
          ...options.headers,
        },
        timeout: WAIT_MS,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
          });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer in ${WAIT_MS} ms`)));
    request.on('error', reject);
    request.end();
  });
}
