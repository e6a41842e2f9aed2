import { type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { GenericOAuth2ResourceOptions } from '../../lib';
import { type AdapterName, RecordingLogger } from './http-adapters';
import { type Script, type ScriptedIntrospectionServer } from './introspection-server';

/** A generic resource introspecting at `${baseUrl}/introspect`, RFC 7662 defaults. */
export function genericResource(
  name: string,
  baseUrl: string,
  extra: Partial<GenericOAuth2ResourceOptions> = {},
): GenericOAuth2ResourceOptions {
  return {
    name,
    type: 'generic',
    introspectionEndpoint: `${baseUrl}/introspect`,
    clientId: 'api',
    clientSecret: 'api-secret',
    ...extra,
  };
}

/** Now, in seconds since the epoch (a whole number, as `exp` is). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Waits a bounded time. */
export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Restores a scripted server between tests: forgets requests and tokens, and puts back its default
 * script (answers from `tokens`).
 */
export function resettable(server: ScriptedIntrospectionServer): () => void {
  const defaultScript: Script = server.script;
  return () => {
    server.reset();
    server.script = defaultScript;
  };
}

/** Tracks applications started by a test so that `afterEach` closes every one of them. */
export class AppTracker {
  private readonly apps: INestApplication[] = [];

  add<T extends INestApplication>(app: T): T {
    this.apps.push(app);
    return app;
  }

  async closeAll(): Promise<void> {
    const apps = this.apps.splice(0);
    await Promise.all(apps.map((app) => app.close()));
  }
}

/**
 * Builds a Nest application on a platform and initializes it (no listening), expecting the start to
 * fail: resolves with the error that `compile()` or `app.init()` rejected with. Rejects if the
 * application started after all.
 */
export async function startupError(adapter: AdapterName, metadata: ModuleMetadata): Promise<Error> {
  let app: INestApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule(metadata).setLogger(new RecordingLogger()).compile();
    app =
      adapter === 'express'
        ? moduleRef.createNestApplication(new ExpressAdapter(), { logger: false })
        : moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
    await app.init();
  } catch (error) {
    await app?.close().catch(() => undefined);
    return error as Error;
  }
  await app.close();
  throw new Error('the application started, but a start-up failure was expected');
}
