import { Controller, Get, type INestApplication, type ModuleMetadata, UseGuards } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module } from '../../lib';
import { OptionalPackageLoader } from '../../lib/common/optional-package.loader';
import { OAuth2Telemetry } from '../../lib/telemetry/oauth2-telemetry';
import { genericResource, nowSeconds } from '../support/guard-e2e-helpers';
import { ADAPTERS, type AdapterName } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { OpenTelemetrySdk } from './otel-sdk';

/**
 * Issue 15, item 2: without `@opentelemetry/api`, telemetry is off; with it but no meter provider
 * registered when the application starts, metrics stay off (the API has no proxy for meters) while
 * spans reach a tracer provider registered later (it has one for tracers): the order the
 * documentation gives, register the SDK first, is the one that works.
 */

@Controller('t')
@UseGuards(OAuth2Guard)
class TelemetryController {
  @Get()
  read() {
    return { ok: true };
  }
}

/** A loader to which `@opentelemetry/api` is not installed: it imports a name no registry has. */
class ApiNotInstalled extends OptionalPackageLoader {
  override loadIfInstalled<T>(packageName: string): Promise<T | undefined> {
    const missing = `${packageName}-not-installed`;
    return super.loadIfInstalled(missing, () => import(missing) as Promise<T>);
  }
}

async function start(adapter: AdapterName, metadata: ModuleMetadata, packages?: OptionalPackageLoader) {
  let builder = Test.createTestingModule(metadata);
  if (packages) {
    builder = builder.overrideProvider(OptionalPackageLoader).useValue(packages);
  }
  const moduleRef = await builder.compile();
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger: false })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  if (adapter === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  return app;
}

describe.each(ADAPTERS)('telemetry off, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let url: string;
  const apps: INestApplication[] = [];
  const metadata = (): ModuleMetadata => ({
    imports: [
      OAuth2Module.forRoot({
        resources: [genericResource('as', url)],
        caches: [{ name: 'local' }],
        policy: { oauthResource: 'as', oauthCacheResource: 'local' },
      }),
    ],
    controllers: [TelemetryController],
  });

  beforeAll(async () => {
    url = await server.start();
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await server.stop();
  });

  it('with no meter provider at start-up: no metrics, even once an SDK registers; spans still reach it', async () => {
    const app = await start(adapter, metadata());
    apps.push(app);
    const sdk = new OpenTelemetrySdk().register();
    try {
      const token = `${adapter}-late-sdk-token`;
      server.tokens.set(token, { active: true, exp: nowSeconds() + 600 });
      await request(app.getHttpServer()).get('/t').set('Authorization', `Bearer ${token}`).expect(200);
      await request(app.getHttpServer()).get('/t').set('Authorization', `Bearer ${token}`).expect(200);
      await request(app.getHttpServer()).get('/t').expect(401);

      const telemetry = app.get(OAuth2Telemetry);
      expect(telemetry.tracesIntrospections).toBe(true);
      expect(telemetry.observesDecisions).toBe(false);
      const { resourceMetrics } = await sdk.collect();
      expect(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)).toEqual([]);
      expect(sdk.spans.getFinishedSpans().map((span) => span.name)).toEqual(['oauth2.introspect']);
    } finally {
      await sdk.shutdown();
    }
  });

  it('without @opentelemetry/api: nothing is recorded, even with an SDK registered, and requests are served', async () => {
    const sdk = new OpenTelemetrySdk().register();
    try {
      const app = await start(adapter, metadata(), new ApiNotInstalled());
      apps.push(app);
      const token = `${adapter}-no-api-token`;
      server.tokens.set(token, { active: true, exp: nowSeconds() + 600 });
      await request(app.getHttpServer()).get('/t').set('Authorization', `Bearer ${token}`).expect(200);
      await request(app.getHttpServer()).get('/t').set('Authorization', `Bearer ${token}`).expect(200);
      await request(app.getHttpServer()).get('/t').expect(401);

      const telemetry = app.get(OAuth2Telemetry);
      expect(telemetry.tracesIntrospections).toBe(false);
      expect(telemetry.observesDecisions).toBe(false);
      const { resourceMetrics } = await sdk.collect();
      expect(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)).toEqual([]);
      expect(sdk.spans.getFinishedSpans()).toEqual([]);
    } finally {
      await sdk.shutdown();
    }
  });
});
