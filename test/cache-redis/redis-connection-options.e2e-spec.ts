import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { activeEntry } from '../../lib/cache/cached-introspection';
import { RedisTokenCacheStore, type RedisTokenCacheStoreOptions } from '../../lib/cache/redis-token-cache.store';
import { TokenCache } from '../../lib/cache/token-cache';
import type { RedisTlsOptions } from '../../lib/interfaces/cache-options.interface';
import { describeWithRedis, RedisServer } from '../support/redis-server';
import { certificateAuthority, clientCertificate, type Issued, serverCertificate } from '../support/test-pki';

/**
 * The connection options of a `redis` cache against real servers: a password (in the option or in the
 * URL), TLS with a private CA, mutual TLS. A connection that fails makes the cache a miss, with one
 * warning that names neither the password nor the URL.
 */

const PASSWORD = 'redis-secret-pw-4f1e';
const entry = activeEntry(Object.freeze({ active: true, sub: 'alice' }));

/** A TokenCache over a Redis store, opened; with the warnings it logged. */
async function openedCache(options: Omit<RedisTokenCacheStoreOptions, 'name' | 'keyPrefix' | 'connectTimeout'>) {
  const warnings: string[] = [];
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
    warnings.push(String(message));
  });
  const store = new RedisTokenCacheStore({ name: 'conn', keyPrefix: 'oauth2:conn:', connectTimeout: 1000, ...options });
  const cache = new TokenCache('conn', store, { timeToLiveSeconds: 60, timeoutMs: 250 });
  try {
    await cache.open();
  } finally {
    warn.mockRestore();
  }
  return { cache, warnings };
}

/** Whether the cache keeps and gives back an entry: the connection works end to end. */
async function roundTrips(cache: TokenCache): Promise<boolean> {
  await cache.set('k', { active: true, payload: entry.active ? entry.payload : {} });
  return (await cache.get('k')) !== undefined;
}

describeWithRedis('Redis connection options', () => {
  describe('a password', () => {
    let redis: RedisServer;
    const caches: TokenCache[] = [];
    beforeAll(async () => {
      redis = await RedisServer.start({ password: PASSWORD });
    });
    afterEach(async () => {
      await Promise.all(caches.splice(0).map((cache) => cache.close()));
    });
    afterAll(async () => {
      await redis.stop();
    });

    it('in the password option', async () => {
      const { cache, warnings } = await openedCache({ url: redis.url, password: PASSWORD });
      caches.push(cache);
      expect(warnings).toEqual([]);
      expect(await roundTrips(cache)).toBe(true);
    });

    it('in the URL', async () => {
      const { cache, warnings } = await openedCache({ url: redis.url.replace('redis://', `redis://:${PASSWORD}@`) });
      caches.push(cache);
      expect(warnings).toEqual([]);
      expect(await roundTrips(cache)).toBe(true);
    });

    it('a wrong one: a miss, one warning without the password or the URL', async () => {
      const { cache, warnings } = await openedCache({ url: redis.url.replace('redis://', 'redis://:wrong-pw-77@') });
      caches.push(cache);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^cache 'conn' fails \(/);
      expect(warnings[0]).not.toContain('wrong-pw-77');
      expect(warnings[0]).not.toContain(String(redis.port));
      expect(await roundTrips(cache)).toBe(false);
    });
  });

  describe('TLS (rediss://)', () => {
    const ca: Issued = certificateAuthority('Redis test CA');
    const otherCa: Issued = certificateAuthority('Another CA');
    const server = serverCertificate(ca);
    const client = clientCertificate(ca, 'orders-api');
    let redis: RedisServer;
    let mutual: RedisServer;
    const caches: TokenCache[] = [];
    beforeAll(async () => {
      [redis, mutual] = await Promise.all([
        RedisServer.start({ tls: { certPem: server.certPem, keyPem: server.keyPem, caPem: ca.certPem } }),
        RedisServer.start({
          tls: {
            certPem: server.certPem,
            keyPem: server.keyPem,
            caPem: ca.certPem,
            client: clientCertificate(ca, 'test-helper'),
          },
        }),
      ]);
    });
    afterEach(async () => {
      await Promise.all(caches.splice(0).map((cache) => cache.close()));
    });
    afterAll(async () => {
      await Promise.all([redis?.stop(), mutual?.stop()]);
    });

    const open = async (target: RedisServer, tls?: RedisTlsOptions) => {
      const opened = await openedCache({ url: target.url, tls });
      caches.push(opened.cache);
      return opened;
    };

    it('with the private CA: connects, and keeps entries', async () => {
      const { cache, warnings } = await open(redis, { ca: ca.certPem });
      expect(warnings).toEqual([]);
      expect(await roundTrips(cache)).toBe(true);
    });

    it.each([
      ["without the server's CA (Node's default list)", undefined],
      ['with another CA', { ca: otherCa.certPem }],
      ['with a servername the certificate is not for', { ca: ca.certPem, servername: 'cache.example.com' }],
    ])('%s: refuses the server, and the cache is a miss', async (_, tls) => {
      const { cache, warnings } = await open(redis, tls);
      expect(warnings).toHaveLength(1);
      expect(await roundTrips(cache)).toBe(false);
    });

    it('with insecureSkipVerify: connects to a server it cannot verify, and warns that it does', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      try {
        const store = new RedisTokenCacheStore({
          name: 'insecure',
          url: redis.url,
          tls: { insecureSkipVerify: true },
          keyPrefix: 'oauth2:insecure:',
          connectTimeout: 1000,
        });
        expect(warn).toHaveBeenCalledWith(
          expect.stringContaining("cache 'insecure' accepts any Redis server certificate"),
        );
        const cache = new TokenCache('insecure', store, { timeToLiveSeconds: 60, timeoutMs: 250 });
        caches.push(cache);
        await cache.open();
        expect(await roundTrips(cache)).toBe(true);
      } finally {
        warn.mockRestore();
      }
    });

    it('mutual TLS: a client certificate opens a server that requires one; without it the cache is a miss', async () => {
      const withCertificate = await open(mutual, { ca: ca.certPem, cert: client.certPem, key: client.keyPem });
      expect(withCertificate.warnings).toEqual([]);
      expect(await roundTrips(withCertificate.cache)).toBe(true);
      const without = await open(mutual, { ca: ca.certPem });
      expect(await roundTrips(without.cache)).toBe(false);
    });
  });
});
