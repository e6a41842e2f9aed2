/**
 * What telemetry costs the guard on a memory-cache hit, without HTTP: `canActivate` in a loop (as in
 * guard-micro.ts) on three guards of one process, measured in turns so that the machine's drift
 * falls on all three alike. `notLoaded`: the module never initialized its telemetry (as without
 * `@opentelemetry/api`); `apiWithoutSdk`: `@opentelemetry/api` loaded and no SDK registered, the case
 * "no measurable cost" is about; `sdk`: the OpenTelemetry SDK's MeterProvider and TracerProvider
 * registered first, every hit counted. Nanoseconds per call, median of the rounds. Part of `npm run bench`.
 */
import 'reflect-metadata';
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { Test, type TestingModule } from '@nestjs/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Guard, OAuth2Module } from '../lib';
import { MicroController, TOKENS, contextFor, fakeRequest, timePerCall } from './guard-micro';

/** A reader nobody collects from: the SDK still counts every hit into its aggregations. */
class IdleReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Nanoseconds per `canActivate` on a memory-cache hit, per telemetry set-up. */
export interface TelemetryCost {
  readonly notLoaded: number;
  readonly apiWithoutSdk: number;
  readonly sdk: number;
}

export async function measureTelemetryCost(iterations = 100_000, rounds = 5): Promise<TelemetryCost> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(
      JSON.stringify({ active: true, client_id: 'c', scope: 'orders:read', exp: Math.floor(Date.now() / 1000) + 3600 }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const build = () =>
    Test.createTestingModule({
      imports: [
        OAuth2Module.forRoot({
          resources: [{ name: 'as', type: 'generic', introspectionEndpoint: `${url}/introspect` }],
          caches: [{ name: 'memory', timeToLiveSeconds: 3600 }],
          policy: { oauthResource: 'as', oauthCacheResource: 'memory' },
        }),
      ],
      controllers: [MicroController],
    })
      .setLogger(false as never)
      .compile();

  const modules: TestingModule[] = [];
  const notLoaded = await build();
  const apiWithoutSdk = await build();
  await apiWithoutSdk.init();
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  const tracerProvider = new BasicTracerProvider();
  metrics.setGlobalMeterProvider(meterProvider);
  trace.setGlobalTracerProvider(tracerProvider);
  const sdk = await build();
  await sdk.init();
  modules.push(notLoaded, apiWithoutSdk, sdk);

  const guards = modules.map((moduleRef) => moduleRef.get(OAuth2Guard));
  for (const guard of guards) {
    for (const token of TOKENS) {
      await guard.canActivate(contextFor(fakeRequest(token)));
    }
  }
  const nothing = () => undefined;
  const empty = (index: number) => contextFor(fakeRequest(TOKENS[index % TOKENS.length]));
  const figures: number[][] = [[], [], []];
  for (let round = 0; round < rounds; round++) {
    // A different order each round: none of the three is always measured first.
    for (let turn = 0; turn < 3; turn++) {
      const which = (round + turn) % 3;
      const guard = guards[which];
      const hit = (index: number) => {
        if (guard.canActivate(contextFor(fakeRequest(TOKENS[index % TOKENS.length]))) !== true) {
          throw new Error('a memory-cache hit did not answer synchronously');
        }
      };
      figures[which].push(timePerCall(iterations, hit, nothing) - timePerCall(iterations, empty, nothing));
    }
  }
  await Promise.all(modules.map((moduleRef) => moduleRef.close()));
  metrics.disable();
  trace.disable();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  server.close();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { notLoaded: median(figures[0]), apiWithoutSdk: median(figures[1]), sdk: median(figures[2]) };
}

if (require.main === module) {
  void measureTelemetryCost().then(({ notLoaded, apiWithoutSdk, sdk }) =>
    console.log(
      `canActivate on a memory-cache hit: ${Math.round(notLoaded)} ns without telemetry, ${Math.round(apiWithoutSdk)} ns with @opentelemetry/api and no SDK, ${Math.round(sdk)} ns with the SDK`,
    ),
  );
}
