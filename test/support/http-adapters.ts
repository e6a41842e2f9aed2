import { type INestApplication, type LoggerService, type LogLevel, type ModuleMetadata } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

/** The HTTP platforms every end-to-end scenario runs on. */
export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** A logger that keeps every line, at every level, so tests can search them. */
export class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown, ...rest: unknown[]): void {
    this.record('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.record('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.record('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.record('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.record('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.record('fatal', message, rest);
  }
  setLogLevels(_levels: LogLevel[]): void {}
  private record(level: string, message: unknown, rest: unknown[]): void {
    this.lines.push(
      `${level} ${[message, ...rest].map((part) => (part instanceof Error ? `${part.message} ${part.stack}` : typeof part === 'string' ? part : JSON.stringify(part))).join(' ')}`,
    );
  }
}

/**
 * Builds and starts a real Nest application on a platform, listening on 127.0.0.1 (a port the
 * system picks), ready for supertest.
 */
export async function startApp(
  adapter: AdapterName,
  metadata: ModuleMetadata,
  logger: LoggerService | false = false,
  /** Set-up before `init()`, as an application's `main.ts` does (`useGlobalFilters`, ...). */
  configure?: (app: INestApplication) => void,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger });
  if (logger) {
    app.useLogger(logger);
  }
  configure?.(app);
  await app.init();
  if (adapter === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  await app.listen(0, '127.0.0.1');
  return app;
}
