import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, type OAuth2ModuleOptions } from '../../lib';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { RedisServer, describeWithRedis } from '../support/redis-server';
import { DpopKey, DpopProvider, obtainDpopToken } from './dpop-kit';

/**
 * A DPoP proof replayed at another instance (RFC 9449 §11.1): two applications share a real
 * redis-server as their cache resource, and so their record of the proofs' `jti`s (SET NX PX). Both
 * instances are told the same `publicUrl`, as instances behind one load balancer are.
 */

@Controller('orders')
@UseGuards(OAuth2Guard)
class OrdersController {
  @Get()
  list(): { ok: true } {
    return { ok: true };
  }
}

const PUBLIC_URL = 'https://api.example.com/shop';

describeWithRedis('DPoP replay across instances sharing Redis', () => {
  let provider: DpopProvider;
  let redis: RedisServer;

  beforeAll(async () => {
    [provider, redis] = await Promise.all([DpopProvider.start(), RedisServer.start()]);
  });

  afterAll(async () => {
    await Promise.all([provider?.stop(), redis?.stop()]);
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
      caches: [{ name: 'shared', type: 'redis', url: redis.url, timeToLiveSeconds: 60 }],
      policy: { oauthResource: 'as', oauthCacheResource: 'shared' },
      publicUrl: PUBLIC_URL,
    };
  }

  describe.each(ADAPTERS)('on %s', (adapter) => {
    let first: INestApplication;
    let second: INestApplication;

    beforeAll(async () => {
      const metadata = () => ({ imports: [OAuth2Module.forRoot(moduleOptions())], controllers: [OrdersController] });
      [first, second] = await Promise.all([startApp(adapter, metadata()), startApp(adapter, metadata())]);
    });

    afterAll(async () => {
      await Promise.all([first?.close(), second?.close()]);
    });

    it('refuses at the second instance a proof the first accepted, and keeps no raw jti in Redis', async () => {
      const key = await DpopKey.generate('ES256');
      const token = await obtainDpopToken(provider.info, key);
      const jti = `replayed-${adapter}-jti`;
      const proof = await key.proof({ htm: 'GET', htu: `${PUBLIC_URL}/orders`, token, jti });
      const send = (app: INestApplication) =>
        request(app.getHttpServer()).get('/orders').set('Authorization', `DPoP ${token}`).set('DPoP', proof);
      expect((await send(first)).status).toBe(200);
      const replayed = await send(second);
      expect(replayed.status).toBe(401);
      expect(replayed.headers['www-authenticate']).toContain('error="invalid_dpop_proof"');
      // A fresh proof of the same key passes at the second instance: only the jti was spent.
      const fresh = await key.proof({ htm: 'GET', htu: `${PUBLIC_URL}/orders`, token });
      const allowed = await request(second.getHttpServer())
        .get('/orders')
        .set('Authorization', `DPoP ${token}`)
        .set('DPoP', fresh);
      expect(allowed.status).toBe(200);
      const stored = await redis.dump();
      expect(stored.length).toBeGreaterThan(0);
      for (const entry of stored) {
        expect(`${entry.key} ${entry.value}`).not.toContain(jti);
        expect(`${entry.key} ${entry.value}`).not.toContain(token);
        expect(entry.ttlMs).toBeGreaterThan(0);
      }
    });
  });
});
