/**
 * What the guard itself costs on a memory-cache hit, without HTTP: `canActivate` called in a loop
 * on one request shape, after one introspection filled the cache. Part of `npm run bench`; prints
 * nanoseconds per call (median of 5 runs).
 */
import 'reflect-metadata';
import { Controller, ExecutionContext, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Guard, OAuth2Module, RequiredScopes } from '../lib';

@Controller()
class MicroController {
  @Get('orders')
  @RequiredScopes('orders:read')
  orders() {
    return { ok: true };
  }
}

/** A request as Node hands it to Express: headers and raw headers. */
function fakeRequest(token: string): object {
  return { headers: { authorization: `Bearer ${token}`, host: 'localhost' }, rawHeaders: ['Host', 'localhost', 'Authorization', `Bearer ${token}`], url: '/orders' };
}

function contextFor(request: object): ExecutionContext {
  const handler = MicroController.prototype.orders;
  const http = { getRequest: () => request, getResponse: () => ({}), getNext: () => undefined };
  return {
    getType: () => 'http',
    getClass: () => MicroController,
    getHandler: () => handler,
    switchToHttp: () => http,
    getArgs: () => [request],
    getArgByIndex: () => request,
    switchToRpc: () => { throw new Error('http only'); },
    switchToWs: () => { throw new Error('http only'); },
  } as unknown as ExecutionContext;
}

/** Runs the measurement; resolves with nanoseconds per `canActivate` on a memory-cache hit. */
export async function measureGuardHit(iterations = 200_000): Promise<number> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ active: true, client_id: 'c', sub: 'u', scope: 'orders:read', exp: Math.floor(Date.now() / 1000) + 3600 }));
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
  const token = 'micro-token-0123456789abcdef0123456789abcdef';
  await guard.canActivate(contextFor(fakeRequest(token)));
  const runs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const requests = Array.from({ length: iterations }, () => contextFor(fakeRequest(token)));
    const started = process.hrtime.bigint();
    for (const context of requests) {
      if (guard.canActivate(context) !== true) {
        throw new Error('a memory-cache hit did not answer synchronously');
      }
    }
    runs.push(Number(process.hrtime.bigint() - started) / iterations);
  }
  await moduleRef.close();
  server.close();
  runs.sort((a, b) => a - b);
  return runs[2];
}

if (require.main === module) {
  void measureGuardHit().then((nanoseconds) => console.log(`canActivate on a memory-cache hit: ${Math.round(nanoseconds)} ns`));
}
