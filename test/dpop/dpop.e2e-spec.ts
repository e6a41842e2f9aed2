import { Controller, Get, type INestApplication, Post, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Policy, type OAuth2ModuleOptions } from '../../lib';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { rawGet } from '../support/raw-http';
import { appUrl } from '../transports/transport-kit';
import { DpopKey, DpopProvider, obtainBearerToken, obtainDpopToken } from './dpop-kit';

/**
 * DPoP (RFC 9449 §7) against a real authorization server that binds tokens to keys (oidc-provider with
 * `features.dPoP`), on Express and Fastify: tokens and proofs are made as a client makes them (jose),
 * and each attack the issue lists is refused with `OAUTH2_INVALID_ACCESS_TOKEN` and a DPoP challenge.
 */

@Controller('orders')
@UseGuards(OAuth2Guard)
class OrdersController {
  @Get()
  list(): { ok: true } {
    return { ok: true };
  }

  @Post()
  create(): { created: true } {
    return { created: true };
  }

  @Get('strict')
  @OAuth2Policy({ dpop: 'required' })
  strict(): { ok: true } {
    return { ok: true };
  }

  @Get('legacy')
  @OAuth2Policy({ dpop: 'off' })
  legacy(): { ok: true } {
    return { ok: true };
  }

  @Get('nonce')
  @OAuth2Policy({ dpopNonces: true })
  nonce(): { ok: true } {
    return { ok: true };
  }

  @Get('es-only')
  @OAuth2Policy({ dpopAlgorithms: ['ES256'] })
  esOnly(): { ok: true } {
    return { ok: true };
  }
}

const ALL_ALGS = 'ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512';

let provider: DpopProvider;

beforeAll(async () => {
  provider = await DpopProvider.start();
});

afterAll(async () => {
  await provider?.stop();
});

function moduleOptions(): OAuth2ModuleOptions {
  const { introspectionUrl, introspector } = provider.info;
  return {
    resources: [
      {
        name: 'as',
        type: 'generic',
        introspectionEndpoint: introspectionUrl,
        clientId: introspector.clientId,
        clientSecret: introspector.clientSecret,
      },
    ],
    caches: [{ name: 'local', timeToLiveSeconds: 60 }],
    policy: { oauthResource: 'as', oauthCacheResource: 'local' },
  };
}

describe.each(ADAPTERS)('DPoP on %s', (adapter) => {
  let app: INestApplication;
  let base: string;
  let key: DpopKey;
  let token: string;

  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [OAuth2Module.forRoot(moduleOptions())],
      controllers: [OrdersController],
    });
    base = appUrl(app);
    key = await DpopKey.generate('ES256');
    token = await obtainDpopToken(provider.info, key);
  });

  afterAll(async () => {
    await app?.close();
  });

  const get = (path: string) => request(app.getHttpServer()).get(path);

  async function withProof(path: string, proof: string, method: 'get' | 'post' = 'get') {
    return request(app.getHttpServer())[method](path).set('Authorization', `DPoP ${token}`).set('DPoP', proof);
  }

  function expectDpopRefusal(response: request.Response, challenge: string): void {
    expect(response.status).toBe(401);
    expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    expect(response.headers['www-authenticate']).toBe(challenge);
    // Neither the token nor the proof is echoed.
    expect(JSON.stringify(response.headers) + response.text).not.toContain(token);
  }

  const invalidProof = `Bearer realm="api", DPoP algs="${ALL_ALGS}", error="invalid_dpop_proof"`;

  it('allows a DPoP-bound token with a fresh proof, GET and POST, each request its own proof', async () => {
    for (let round = 0; round < 2; round += 1) {
      const response = await withProof('/orders', await key.proof({ htm: 'GET', htu: `${base}/orders`, token }));
      expect(response.status).toBe(200);
    }
    const posted = await withProof('/orders', await key.proof({ htm: 'POST', htu: `${base}/orders`, token }), 'post');
    expect(posted.status).toBe(201);
  });

  it('accepts htu written otherwise but equal once normalised (case of scheme and host, default port, no query)', async () => {
    const port = new URL(base).port;
    const proof = await key.proof({ htm: 'GET', htu: `HTTP://127.0.0.1:${port}/orders?page=2#top`, token });
    expect((await withProof('/orders?page=1', proof)).status).toBe(200);
  });

  it('refuses a replayed proof (same jti)', async () => {
    const proof = await key.proof({ htm: 'GET', htu: `${base}/orders`, token });
    expect((await withProof('/orders', proof)).status).toBe(200);
    expectDpopRefusal(await withProof('/orders', proof), invalidProof);
  });

  it('refuses a proof made for another URL or another method', async () => {
    expectDpopRefusal(
      await withProof('/orders', await key.proof({ htm: 'GET', htu: `${base}/invoices`, token })),
      invalidProof,
    );
    expectDpopRefusal(
      await withProof('/orders', await key.proof({ htm: 'GET', htu: `http://other.example${'/orders'}`, token })),
      invalidProof,
    );
    expectDpopRefusal(
      await withProof('/orders', await key.proof({ htm: 'POST', htu: `${base}/orders`, token })),
      invalidProof,
    );
  });

  it('refuses a stale iat and an iat in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectDpopRefusal(
      await withProof('/orders', await key.proof({ htm: 'GET', htu: `${base}/orders`, token, iat: now - 300 })),
      invalidProof,
    );
    expectDpopRefusal(
      await withProof('/orders', await key.proof({ htm: 'GET', htu: `${base}/orders`, token, iat: now + 300 })),
      invalidProof,
    );
  });

  it("refuses a proof signed by another key than the token's (cnf.jkt), with the right ath", async () => {
    const thief = await DpopKey.generate('ES256');
    expectDpopRefusal(
      await withProof('/orders', await thief.proof({ htm: 'GET', htu: `${base}/orders`, token })),
      invalidProof,
    );
  });

  it('refuses an ath that is not the hash of the token, a wrong typ, and an algorithm the route does not allow', async () => {
    expectDpopRefusal(
      await withProof('/orders', await key.proof({ htm: 'GET', htu: `${base}/orders`, token: 'another-token' })),
      invalidProof,
    );
    expectDpopRefusal(
      await withProof('/orders', await key.proof({ htm: 'GET', htu: `${base}/orders`, token, typ: 'JWT' })),
      invalidProof,
    );
    const edKey = await DpopKey.generate('EdDSA');
    const edToken = await obtainDpopToken(provider.info, edKey);
    const edProof = () => edKey.proof({ htm: 'GET', htu: `${base}/orders/es-only`, token: edToken });
    const refused = await get('/orders/es-only')
      .set('Authorization', `DPoP ${edToken}`)
      .set('DPoP', await edProof());
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(
      'Bearer realm="api", DPoP algs="ES256", error="invalid_dpop_proof"',
    );
    // The same EdDSA key and token where every algorithm is allowed.
    const allowed = await get('/orders')
      .set('Authorization', `DPoP ${edToken}`)
      .set('DPoP', await edKey.proof({ htm: 'GET', htu: `${base}/orders`, token: edToken }));
    expect(allowed.status).toBe(200);
  });

  it('refuses a DPoP-bound token presented as Bearer (stolen), in every mode', async () => {
    for (const path of ['/orders', '/orders/legacy']) {
      const response = await get(path).set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    }
    expect((await get('/orders').set('Authorization', `Bearer ${token}`)).headers['www-authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", DPoP algs="${ALL_ALGS}"`,
    );
    expect((await get('/orders/legacy').set('Authorization', `Bearer ${token}`)).headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token"',
    );
  });

  it('refuses a DPoP token without a proof, and with two DPoP headers', async () => {
    expectDpopRefusal(await get('/orders').set('Authorization', `DPoP ${token}`), invalidProof);
    const proof = await key.proof({ htm: 'GET', htu: `${base}/orders`, token });
    // Raw lines: an HTTP client library folds repeated headers into one. The Host line has no port:
    // the proof names that URL, so only the second header can be what is refused.
    const single = await key.proof({ htm: 'GET', htu: 'http://127.0.0.1/orders', token });
    const lines = (...proofs: string[]) =>
      [`Authorization: DPoP ${token}`, ...proofs.map((value) => `DPoP: ${value}`)].map((line) => Buffer.from(line));
    const port = Number(new URL(base).port);
    expect((await rawGet(port, '/orders', lines(single))).status).toBe(200);
    const twice = await rawGet(port, '/orders', lines(proof, proof));
    expect(twice.status).toBe(401);
    expect(twice.headers['www-authenticate']).toBe(invalidProof);
  });

  it('keeps Bearer as it was where DPoP is allowed (the default): an unbound token passes, no credential gets the Bearer challenge as before', async () => {
    const bearer = await obtainBearerToken(provider.info);
    expect((await get('/orders').set('Authorization', `Bearer ${bearer}`)).status).toBe(200);
    const none = await get('/orders');
    expect(none.status).toBe(401);
    expect(none.body.key).toBe('OAUTH2_MISSING_HEADER');
    // A client that never spoke DPoP gets the challenge it got before: 'allowed' is the default.
    expect(none.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it("'required' refuses Bearer with a DPoP challenge only, and accepts DPoP", async () => {
    const bearer = await obtainBearerToken(provider.info);
    const refused = await get('/orders/strict').set('Authorization', `Bearer ${bearer}`);
    expect(refused.status).toBe(401);
    expect(refused.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    expect(refused.headers['www-authenticate']).toBe(`DPoP algs="${ALL_ALGS}", error="invalid_token"`);
    const none = await get('/orders/strict');
    expect(none.headers['www-authenticate']).toBe(`DPoP algs="${ALL_ALGS}"`);
    const proof = await key.proof({ htm: 'GET', htu: `${base}/orders/strict`, token });
    expect((await withProof('/orders/strict', proof)).status).toBe(200);
  });

  it("'off' does not read the DPoP scheme (no credential, a Bearer challenge only)", async () => {
    const proof = await key.proof({ htm: 'GET', htu: `${base}/orders/legacy`, token });
    const response = await withProof('/orders/legacy', proof);
    expect(response.status).toBe(401);
    expect(response.body.key).toBe('OAUTH2_MISSING_HEADER');
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it('asks for a server nonce (use_dpop_nonce, DPoP-Nonce), then accepts the proof that carries it', async () => {
    const htu = `${base}/orders/nonce`;
    const first = await withProof('/orders/nonce', await key.proof({ htm: 'GET', htu, token }));
    expect(first.status).toBe(401);
    expect(first.headers['www-authenticate']).toBe(
      `Bearer realm="api", DPoP algs="${ALL_ALGS}", error="use_dpop_nonce"`,
    );
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect((await withProof('/orders/nonce', await key.proof({ htm: 'GET', htu, token, nonce }))).status).toBe(200);
    const bytes = Buffer.from(nonce, 'base64url');
    bytes[bytes.length - 1] ^= 1;
    const forged = bytes.toString('base64url');
    expect((await withProof('/orders/nonce', await key.proof({ htm: 'GET', htu, token, nonce: forged }))).status).toBe(
      401,
    );
  });

  it('answers 401, never 500, to malformed proofs', async () => {
    const valid = await key.proof({ htm: 'GET', htu: `${base}/orders`, token });
    const [header, payload, signature] = valid.split('.');
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const malformed = [
      'x',
      'a.b',
      'a.b.c.d',
      '...',
      `${header}.${payload}`,
      `${header}.${payload}.`,
      `${b64('not an object')}.${payload}.${signature}`,
      `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk })}.${payload}.`,
      `${b64({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'AAAA' } })}.${payload}.${signature}`,
      `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } })}.${payload}.${signature}`,
      `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: 'a string' })}.${payload}.${signature}`,
      `${b64({ typ: 'dpop+jwt', alg: 'RS256', jwk: key.jwk })}.${payload}.${signature}`,
      `${header}.${b64([1, 2])}.${signature}`,
      `${header}.${payload}.${'A'.repeat(10_000)}`,
      `${header}.${payload}.${signature}%`,
    ];
    for (const proof of malformed) {
      const response = await withProof('/orders', proof);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe(invalidProof);
    }
  });
});
