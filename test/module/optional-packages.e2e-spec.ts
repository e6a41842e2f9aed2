import { Controller, Get, type INestApplication, type ModuleMetadata, UseGuards } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { OAuth2ConfigurationError, OAuth2Guard, OAuth2Module, type OAuth2ModuleOptions } from '../../lib';
import { OptionalPackageLoader } from '../../lib/common/optional-package.loader';
import { genericResource } from '../support/guard-e2e-helpers';
import { ADAPTERS, type AdapterName } from '../support/http-adapters';

/**
 * Issue 10: `@keyv/redis` is an optional peer dependency, imported at start-up only when a `redis`
 * cache is configured. The applications here run with a package loader to which every optional
 * package is missing: it asks the real loader for `<name>-not-installed`, which no registry has, so
 * the import fails as it does where the package is not installed.
 */
class NothingInstalled extends OptionalPackageLoader {
  /** The packages the module asked for. */
  readonly requested: string[] = [];

  override load<T>(packageName: string, field: string, feature: string): Promise<T> {
    this.requested.push(packageName);
    const missing = `${packageName}-not-installed`;
    return super.load(missing, field, feature, () => import(missing) as Promise<T>);
  }
}

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read() {
    return { ok: true };
  }
}

const AS_URL = 'http://127.0.0.1:9';

/** Builds and initializes an application with a package loader of the test's; the start's error, if any. */
async function start(
  adapter: AdapterName,
  metadata: ModuleMetadata,
  packages: OptionalPackageLoader,
): Promise<{ app?: INestApplication; error?: Error }> {
  const moduleRef = await Test.createTestingModule(metadata)
    .overrideProvider(OptionalPackageLoader)
    .useValue(packages)
    .compile();
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger: false })
      : moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
  try {
    await app.init();
    return { app };
  } catch (error) {
    await app.close().catch(() => undefined);
    return { error: error as Error };
  }
}

function options(caches: OAuth2ModuleOptions['caches']): OAuth2ModuleOptions {
  return { resources: [genericResource('as', AS_URL)], caches, policy: { oauthResource: 'as' } };
}

describe.each(ADAPTERS)('optional packages, on %s', (adapter) => {
  it("a 'redis' cache without @keyv/redis installed fails the start, naming the cache and the install command", async () => {
    const packages = new NothingInstalled();
    const { app, error } = await start(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot(
            options([
              { name: 'local' },
              // Never connected: the start fails before any connection is attempted.
              { name: 'shared', type: 'redis', url: 'redis://127.0.0.1:9' },
            ]),
          ),
        ],
        controllers: [DataController],
      },
      packages,
    );
    await app?.close();
    expect(packages.requested).toEqual(['@keyv/redis']);
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    expect((error as OAuth2ConfigurationError).field).toBe('caches[1]');
    expect(error!.message).toBe(
      "OAuth2Module configuration: caches[1] (type 'redis') needs the package @keyv/redis-not-installed, " +
        'which is not installed: npm install @keyv/redis-not-installed',
    );
  });

  it('an application without a redis cache starts without any optional package, and never asks for one', async () => {
    const packages = new NothingInstalled();
    const { app, error } = await start(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            ...options([{ name: 'local' }, { name: 'app', type: 'cache-module', injectionToken: 'APP_CACHE' }]),
            policy: { oauthResource: 'as', oauthCacheResource: 'local' },
          }),
        ],
        providers: [{ provide: 'APP_CACHE', useValue: new Map() }],
        controllers: [DataController],
      },
      packages,
    );
    try {
      expect(error).toBeUndefined();
      expect(app).toBeDefined();
      expect(packages.requested).toEqual([]);
    } finally {
      await app?.close();
    }
  });
});
