/**
 * What a DPoP request costs the guard (RFC 9449 proof verification, on every request), against a
 * Bearer request, both on a memory-cache hit, without HTTP: `canActivate` called in a loop, as in
 * guard-micro.ts. Three variants, timed in turns in one process (Bearer, DPoP ES256, DPoP EdDSA, then
 * again, 5 rounds), so that a machine's drift touches each alike; the figure of each is the median of
 * its rounds, in microseconds per call. Proofs are made before each timed loop (a distinct `jti` and a
 * fresh `iat` each, as clients send), outside the timed part. Part of `npm run bench`.
 */
import 'reflect-metadata';
import { Controller, ExecutionContext, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type KeyObject, createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Guard, OAuth2Module } from '../lib';
import { jwkThumbprint } from '../lib/dpop/dpop-jwk';

@Controller()
class DpopMicroController {
  @Get('orders')
  orders() {
    return { ok: true };
  }
}

type Variant = 'bearer' | 'ES256' | 'EdDSA';
const VARIANTS: readonly Variant[] = ['bearer', 'ES256', 'EdDSA'];
const HOST = 'api.example.com';
const HTU = `https://${HOST}/orders`;
/** Clients per variant: each its own key and token, so the calls look up several cache entries. */
const CLIENTS = 20;

interface Client {
  readonly token: string;
  readonly privateKey?: KeyObject;
  readonly jwk?: Record<string, unknown>;
}

function clientsOf(variant: Variant): Client[] {
  return Array.from({ length: CLIENTS }, (_, index) => {
    const token = `${variant}-token-${String(index).padStart(3, '0')}-0123456789abcdef0123456789abcdef`;
    if (variant === 'bearer') {
      return { token };
    }
    const { privateKey, publicKey } =
      variant === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    return { token, privateKey, jwk: publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
  });
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A proof as a client makes it (RFC 9449 §4.2), signed with node:crypto. */
function proofOf(variant: Exclude<Variant, 'bearer'>, client: Client): string {
  const input = `${b64({ typ: 'dpop+jwt', alg: variant, jwk: client.jwk })}.${b64({
    jti: randomUUID(),
    htm: 'GET',
    htu: HTU,
    iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(client.token).digest('base64url'),
  })}`;
  const key = client.privateKey as KeyObject;
  const signature =
    variant === 'EdDSA'
      ? sign(null, Buffer.from(input), key)
      : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** A request as Node hands it to Express. */
function requestOf(client: Client, proof: string | undefined): object {
  const authorization = proof === undefined ? `Bearer ${client.token}` : `DPoP ${client.token}`;
  const rawHeaders = ['Host', HOST, 'Authorization', authorization];
  if (proof !== undefined) {
    rawHeaders.push('DPoP', proof);
  }
  return {
    method: 'GET',
    protocol: 'https',
    headers: { host: HOST, authorization, ...(proof !== undefined && { dpop: proof }) },
    rawHeaders,
    url: '/orders',
    originalUrl: '/orders',
  };
}

function contextFor(request: object): ExecutionContext {
  const handler = DpopMicroController.prototype.orders;
  return {
    getType: () => 'http',
    getClass: () => DpopMicroController,
    getHandler: () => handler,
    getArgs: () => [request],
    getArgByIndex: () => request,
  } as unknown as ExecutionContext;
}

/** Microseconds per `canActivate`, median of the rounds, per variant. */
export type DpopCost = Record<Variant, number>;

/** Runs the measurement: `iterations` calls per variant and round, 5 rounds. */
export async function measureDpopCost(iterations = 5000): Promise<DpopCost> {
  const clients = Object.fromEntries(VARIANTS.map((variant) => [variant, clientsOf(variant)])) as Record<
    Variant,
    Client[]
  >;
  const jktOf = new Map<string, string | undefined>();
  for (const variant of VARIANTS) {
    for (const client of clients[variant]) {
      jktOf.set(client.token, client.jwk && jwkThumbprint(client.jwk));
    }
  }
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      const jkt = jktOf.get(token);
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(
        JSON.stringify({
          active: true,
          client_id: 'c',
          exp: Math.floor(Date.now() / 1000) + 3600,
          ...(jkt !== undefined && { token_type: 'DPoP', cnf: { jkt } }),
        }),
      );
    });
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
    controllers: [DpopMicroController],
  })
    .setLogger(false as never)
    .compile();
  const guard = moduleRef.get(OAuth2Guard);
  const proofsFor = (variant: Variant, count: number): Array<string | undefined> =>
    Array.from({ length: count }, (_, index) =>
      variant === 'bearer' ? undefined : proofOf(variant, clients[variant][index % CLIENTS]),
    );
  // Fills the cache: one introspection per client.
  for (const variant of VARIANTS) {
    const proofs = proofsFor(variant, CLIENTS);
    for (let index = 0; index < CLIENTS; index += 1) {
      await guard.canActivate(contextFor(requestOf(clients[variant][index], proofs[index])));
    }
  }
  const rounds: Record<Variant, number[]> = { bearer: [], ES256: [], EdDSA: [] };
  for (let round = 0; round < 5; round += 1) {
    for (const variant of VARIANTS) {
      // Proofs and requests built before the clock starts: only canActivate is timed.
      const proofs = proofsFor(variant, iterations);
      const contexts = proofs.map((proof, index) => contextFor(requestOf(clients[variant][index % CLIENTS], proof)));
      const started = process.hrtime.bigint();
      for (const context of contexts) {
        if (guard.canActivate(context) !== true) {
          throw new Error(`a ${variant} memory-cache hit did not answer synchronously`);
        }
      }
      rounds[variant].push(Number(process.hrtime.bigint() - started) / iterations / 1000);
    }
  }
  await moduleRef.close();
  server.close();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { bearer: median(rounds.bearer), ES256: median(rounds.ES256), EdDSA: median(rounds.EdDSA) };
}

if (require.main === module) {
  void measureDpopCost().then((cost) =>
    console.log(
      `canActivate on a memory-cache hit: Bearer ${cost.bearer.toFixed(1)} µs, DPoP ES256 ${cost.ES256.toFixed(1)} µs, DPoP EdDSA ${cost.EdDSA.toFixed(1)} µs`,
    ),
  );
}
