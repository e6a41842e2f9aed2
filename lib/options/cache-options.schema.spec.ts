import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { validateModuleOptions } from './validate-options';

const resources = [{ name: 'as', type: 'generic', introspectionEndpoint: 'https://as.example.com/introspect' }];
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** The resolved caches of a valid configuration. */
const resolve = (...caches: unknown[]) => validateModuleOptions({ resources, caches }).caches;

/** The configuration error of invalid caches; fails the test when the options are accepted. */
function problemsOf(...caches: unknown[]): OAuth2ConfigurationError {
  try {
    validateModuleOptions({ resources, caches });
  } catch (error) {
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    return error as OAuth2ConfigurationError;
  }
  throw new Error('expected an OAuth2ConfigurationError, but the options were accepted');
}

describe('cache resource options', () => {
  describe('defaults', () => {
    it('memory: timeToIdleSeconds kept when given, up to the TTL', () => {
      expect(resolve({ name: 'idle', timeToLiveSeconds: 60, timeToIdleSeconds: 60 })).toEqual([
        {
          name: 'idle',
          type: 'memory',
          timeToLiveSeconds: 60,
          maxEntries: 10_000,
          timeToIdleSeconds: 60,
          rememberTokens: true,
        },
      ]);
    });

    it('memory: 300 s, 10000 entries, no negative TTL, SHA-256 keys', () => {
      expect(resolve({ name: 'local' })).toEqual([
        { name: 'local', type: 'memory', timeToLiveSeconds: 300, maxEntries: 10_000, rememberTokens: true },
      ]);
    });

    it('redis: the oauth2:<name>: prefix, a 250 ms call timeout and a 1 s connect timeout', () => {
      expect(resolve({ name: 'shared', type: 'redis', url: 'redis://localhost:6379' })).toEqual([
        {
          name: 'shared',
          type: 'redis',
          url: 'redis://localhost:6379',
          timeToLiveSeconds: 300,
          keyPrefix: 'oauth2:shared:',
          timeout: 250,
          connectTimeout: 1000,
          singleFlightTimeout: 1000,
        },
      ]);
    });

    it('store: the same object, the oauth2:<name>: prefix and a 250 ms call timeout', () => {
      const store = createCache();
      const [resolved] = resolve({ name: 'app', type: 'store', store });
      expect(resolved).toMatchObject({
        name: 'app',
        type: 'store',
        keyPrefix: 'oauth2:app:',
        timeout: 250,
        timeToLiveSeconds: 300,
      });
      expect(resolved.type === 'store' && resolved.store).toBe(store);
    });

    it("cache-module: @nestjs/cache-manager's CACHE_MANAGER token, the oauth2:<name>: prefix and a 250 ms call timeout", () => {
      expect(resolve({ name: 'app', type: 'cache-module' })).toEqual([
        {
          name: 'app',
          type: 'cache-module',
          injectionToken: 'CACHE_MANAGER',
          keyPrefix: 'oauth2:app:',
          timeout: 250,
          timeToLiveSeconds: 300,
        },
      ]);
    });
  });

  it('cache-module: keeps every option it was given, a symbol token as the same symbol', () => {
    const token = Symbol('APP_CACHE');
    expect(
      resolve({
        name: 'app',
        type: 'cache-module',
        injectionToken: token,
        keyPrefix: 'orders:',
        timeout: 100,
        timeToLiveSeconds: 60,
        negativeTimeToLiveSeconds: 10,
        hmacSecret: 'a-long-enough-secret',
      }),
    ).toEqual([
      {
        name: 'app',
        type: 'cache-module',
        injectionToken: token,
        keyPrefix: 'orders:',
        timeout: 100,
        timeToLiveSeconds: 60,
        negativeTimeToLiveSeconds: 10,
        hmacSecret: 'a-long-enough-secret',
      },
    ]);
    expect(resolve({ name: 'app', type: 'cache-module', injectionToken: 'MY_CACHE' })[0]).toMatchObject({
      injectionToken: 'MY_CACHE',
    });
  });

  it('keeps every option it was given', () => {
    const tls = { ca: PEM, servername: 'cache.internal' };
    const [resolved] = resolve({
      name: 'shared',
      type: 'redis',
      url: 'rediss://cache.internal:6380/2',
      username: 'api',
      password: 'redis-password',
      tls,
      keyPrefix: 'orders:',
      timeout: 100,
      connectTimeout: 500,
      singleFlightTimeout: 200,
      timeToLiveSeconds: 60,
      negativeTimeToLiveSeconds: 10,
      hmacSecret: 'a-long-enough-secret',
    });
    expect(resolved).toEqual({
      name: 'shared',
      type: 'redis',
      url: 'rediss://cache.internal:6380/2',
      username: 'api',
      password: 'redis-password',
      tls,
      keyPrefix: 'orders:',
      timeout: 100,
      connectTimeout: 500,
      singleFlightTimeout: 200,
      timeToLiveSeconds: 60,
      negativeTimeToLiveSeconds: 10,
      hmacSecret: 'a-long-enough-secret',
    });
  });

  it.each([
    ['a Keyv', () => new Keyv()],
    ['a Keyv store adapter (a Map)', () => new Map()],
  ])('accepts %s as a store', (_, makeStore) => {
    expect(resolve({ name: 'app', type: 'store', store: makeStore() })).toHaveLength(1);
  });

  describe('refuses, naming the field', () => {
    it.each([
      [null, 'caches[0]', 'must be an object'],
      [{ name: 'c', timeToIdleSeconds: 0 }, 'caches[0].timeToIdleSeconds', 'must not be less than 1'],
      [{ name: 'c', timeToIdleSeconds: 1.5 }, 'caches[0].timeToIdleSeconds', 'must be an integer'],
      [{ name: 'c', timeToIdleSeconds: '60' }, 'caches[0].timeToIdleSeconds', 'must be an integer'],
      [{ name: 'c', timeToIdleSeconds: 301 }, 'caches[0].timeToIdleSeconds', 'more than timeToLiveSeconds (300)'],
      [
        { name: 'c', timeToLiveSeconds: 60, timeToIdleSeconds: 61 },
        'caches[0].timeToIdleSeconds',
        'Lower it, or raise timeToLiveSeconds',
      ],
      [
        { name: 'c', type: 'redis', url: 'redis://h', timeToIdleSeconds: 5 },
        'caches[0].timeToIdleSeconds',
        "is not an option of a 'redis' cache",
      ],
      [{ name: 'c', rememberTokens: 'no' }, 'caches[0].rememberTokens', 'must be a boolean'],
      [
        { name: 'c', type: 'redis', url: 'redis://h', rememberTokens: false },
        'caches[0].rememberTokens',
        "is not an option of a 'redis' cache",
      ],
      [{ name: 'c', type: 'redis' }, 'caches[0].url', 'is required'],
      [
        { name: 'c', type: 'redis', url: 'http://localhost:6379' },
        'caches[0].url',
        'must be a redis:// or rediss:// (TLS) URL',
      ],
      [{ name: 'c', type: 'redis', url: 42 }, 'caches[0].url', 'must be a redis:// or rediss:// (TLS) URL'],
      [
        { name: 'c', type: 'redis', url: 'redis://localhost/cache' },
        'caches[0].url',
        'has a path that is not a database number',
      ],
      [
        { name: 'c', type: 'redis', url: 'redis://h', tlss: {} },
        'caches[0].tlss',
        "is not an option of a 'redis' cache",
      ],
      [
        { name: 'c', type: 'redis', url: 'redis://h', maxEntries: 5 },
        'caches[0].maxEntries',
        "is not an option of a 'redis' cache",
      ],
      [{ name: 'c', type: 'redis', url: 'redis://h', tls: { ca: PEM } }, 'caches[0].tls', 'use a rediss:// URL'],
      [
        { name: 'c', type: 'redis', url: 'rediss://h', tls: true },
        'caches[0].tls',
        'must be an object with TLS settings',
      ],
      [
        { name: 'c', type: 'redis', url: 'rediss://h', tls: { ca: '/etc/ca.pem' } },
        'caches[0].tls.ca',
        'must be a PEM text',
      ],
      [
        { name: 'c', type: 'redis', url: 'rediss://h', tls: { cert: PEM } },
        'caches[0].tls.key',
        'is required with cert',
      ],
      [
        { name: 'c', type: 'redis', url: 'rediss://h', tls: { rejectUnauthorized: false } },
        'caches[0].tls.rejectUnauthorized',
        'is not a TLS option',
      ],
      [{ name: 'c', type: 'redis', url: 'redis://h', timeout: 0 }, 'caches[0].timeout', 'must not be less than 1'],
      [{ name: 'c', type: 'redis', url: 'redis://h', keyPrefix: '' }, 'caches[0].keyPrefix', 'should not be empty'],
      [{ name: 'c', type: 'store' }, 'caches[0].store', 'is required'],
      [
        { name: 'c', type: 'store', store: 'redis://h' },
        'caches[0].store',
        "must be a cache-manager Cache (createCache(), or @nestjs/cache-manager's CACHE_MANAGER)",
      ],
      [
        { name: 'c', type: 'store', store: new Map(), url: 'redis://h' },
        'caches[0].url',
        "is not an option of a 'store' cache",
      ],
      [
        { name: 'c', type: 'cache-module', store: new Map() },
        'caches[0].store',
        "is not an option of a 'cache-module' cache",
      ],
      [
        { name: 'c', type: 'cache-module', injectionTokn: 'CACHE_MANAGER' },
        'caches[0].injectionTokn',
        "is not an option of a 'cache-module' cache",
      ],
      [
        { name: 'c', type: 'cache-module', injectionToken: 42 },
        'caches[0].injectionToken',
        "must be the token of the application's cache provider, a non-empty string or a symbol, such as 'CACHE_MANAGER' (got number)",
      ],
      [
        { name: 'c', type: 'cache-module', injectionToken: '' },
        'caches[0].injectionToken',
        'a non-empty string or a symbol, such as',
      ],
      [{ name: 'c', type: 'cache-module', injectionToken: null }, 'caches[0].injectionToken', '(got null)'],
      [{ name: 'c', type: 'cache-module', timeout: 60_001 }, 'caches[0].timeout', 'must not be greater than 60000'],
      [{ name: 'c', type: 'cache-module', keyPrefix: '' }, 'caches[0].keyPrefix', 'should not be empty'],
      [{ name: 'c', type: 'cache-module', hmacSecret: 'short' }, 'caches[0].hmacSecret', 'must be longer than'],
      [{ type: 'cache-module' }, 'caches[0].name', 'is required'],
      [{ name: 'c', negativeTimeToLiveSeconds: 0 }, 'caches[0].negativeTimeToLiveSeconds', 'must not be less than 1'],
      [
        { name: 'c', negativeTimeToLiveSeconds: 7200 },
        'caches[0].negativeTimeToLiveSeconds',
        'must not be greater than 3600',
      ],
      [{ name: 'c', hmacSecret: 'short' }, 'caches[0].hmacSecret', 'must be longer than or equal to 16 characters'],
      [{ name: 'c', type: 'memory', url: 'redis://h' }, 'caches[0].url', "is not an option of a 'memory' cache"],
    ])('%j → %s', (cache, field, problem) => {
      const error = problemsOf(cache);
      expect(error.field).toBe(field);
      expect(error.message).toContain(problem);
    });

    it('an unknown option of a cache, listing the known ones', () => {
      const error = problemsOf({ name: 'c', type: 'redis', url: 'redis://h', ttl: 5 });
      expect(error.message).toContain(
        'Known options: type, url, cluster, sentinel, singleFlight, singleFlightTimeout, username, password, tls, keyPrefix, timeout, connectTimeout, name, timeToLiveSeconds, negativeTimeToLiveSeconds, hmacSecret, staleIfErrorSeconds.',
      );
      expect(problemsOf({ name: 'c', type: 'cache-module', ttl: 5 }).message).toContain(
        'Known options: type, injectionToken, keyPrefix, timeout, name, timeToLiveSeconds, negativeTimeToLiveSeconds, hmacSecret, staleIfErrorSeconds.',
      );
    });
  });

  describe('never echoes a secret', () => {
    it.each([
      ['a URL with a password', { name: 'c', type: 'redis', url: 'http://:hunter2-password@h:6379' }],
      ['a password of the wrong type', { name: 'c', type: 'redis', url: 'redis://h', password: ['hunter2-password'] }],
      ['a short hmacSecret', { name: 'c', hmacSecret: 'hunter2-pass' }],
    ])('%s', (_, cache) => {
      const error = problemsOf(cache);
      expect(error.message).not.toContain('hunter2');
    });
  });

  it('does not copy or walk a live store (cycles would overflow a deep copy)', () => {
    const store = createCache();
    const cyclic = store as unknown as { self?: unknown };
    cyclic.self = store;
    expect(() => resolve({ name: 'app', type: 'store', store })).not.toThrow();
  });
});
