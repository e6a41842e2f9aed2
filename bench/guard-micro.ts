/**
 * What the guard itself costs on a memory-cache hit, without HTTP: `canActivate` called in a loop,
 * after one introspection per token filled the cache. Two figures (nanoseconds per call, median of
 * 5 runs): hot, the loop alone, where everything the guard touches stays in the CPU's caches; and
 * cold, with a walk over 8 MB of memory between calls, as a server's own work between two requests
 * evicts the guard's code and data. The cold one is what a request pays. Part of `npm run bench`.
 */
import 'reflect-metadata';
import { Controller, ExecutionContext, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Guard, OAuth2Module, RequiredScopes } from '../lib';

@Controller()
export class MicroController {
  @Get('orders')
  @RequiredScopes('orders:read')
  orders() {
    return { ok: true };
  }
}

/** Tokens in turn, so that each call looks up another cache entry, as requests from many clients do. */
export const TOKENS = Array.from(
  { length: 1000 },
  (_, index) => `micro-token-${String(index).padStart(4, '0')}-0123456789abcdef0123456789`,
);

/** A request as Node hands it to Express: headers and raw headers. */
export function fakeRequest(token: string): object {
  return {
    headers: { authorization: `Bearer ${token}`, host: 'localhost' },
    rawHeaders: ['Host', 'localhost', 'Authorization', `Bearer ${token}`],
    url: '/orders',
  };
}

export function contextFor(request: object): ExecutionContext {
  const handler = MicroController.prototype.orders;
  const http = { getRequest: () => request, getResponse: () => ({}), getNext: () => undefined };
  return {
    getType: () => 'http',
    getClass: () => MicroController,
    getHandler: () => handler,
    switchToHttp: () => http,
    getArgs: () => [request],
    getArgByIndex: () => request,
    switchToRpc: () => {
      throw new Error('http only');
    },
    switchToWs: () => {
      throw new Error('http only');
    },
  } as unknown as ExecutionContext;
}

/** What a server does between two requests, as far as the CPU's caches go: reads spread over 8 MB. */
class CacheEvictor {
  private readonly cells = Array.from({ length: 1 << 20 }, (_, index) => index);
  private position = 0;
  total = 0;

  run(reads: number): void {
    for (let read = 0; read < reads; read++) {
      // A stride that is prime to the table's size visits it all, a cache line apart each time.
      this.position = (this.position + 7919) & (this.cells.length - 1);
      this.total += this.cells[this.position];
    }
  }
}

/** Nanoseconds per call of `call`, median of 5 runs of `iterations`, with `between` run before each call. */
export function timePerCall(iterations: number, call: (index: number) => void, between: () => void): number {
  const runs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < iterations; index++) {
      between();
      call(index);
    }
    runs.push(Number(process.hrtime.bigint() - started) / iterations);
  }
  return runs.sort((a, b) => a - b)[2];
}

/** Runs the measurement; resolves with nanoseconds per `canActivate` on a memory-cache hit, hot and cold. */
export async function measureGuardHit(iterations = 200_000): Promise<{ hot: number; cold: number }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(
      JSON.stringify({
        active: true,
        client_id: 'c',
        sub: 'u',
        scope: 'orders:read',
        exp: Math.floor(Date.now() / 1000) + 3600,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const moduleRef = await Test.createTestingModule({
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
  const guard = moduleRef.get(OAuth2Guard);
  for (const token of TOKENS) {
    await guard.canActivate(contextFor(fakeRequest(token)));
  }
  const hit = (index: number) => {
    if (guard.canActivate(contextFor(fakeRequest(TOKENS[index % TOKENS.length]))) !== true) {
      throw new Error('a memory-cache hit did not answer synchronously');
    }
  };
  // The request and its context are built in every loop, the empty one included, so that only
  // canActivate is left in the difference.
  const build = (index: number) => contextFor(fakeRequest(TOKENS[index % TOKENS.length]));
  const evictor = new CacheEvictor();
  const nothing = () => undefined;
  const hot = timePerCall(iterations, hit, nothing) - timePerCall(iterations, build, nothing);
  const coldIterations = Math.max(1, Math.floor(iterations / 4));
  const evict = () => evictor.run(1000);
  const cold = timePerCall(coldIterations, hit, evict) - timePerCall(coldIterations, build, evict);
  await moduleRef.close();
  server.close();
  return { hot, cold };
}

if (require.main === module) {
  void measureGuardHit().then(({ hot, cold }) =>
    console.log(
      `canActivate on a memory-cache hit: ${Math.round(hot)} ns hot, ${Math.round(cold)} ns with cold CPU caches`,
    ),
  );
}
