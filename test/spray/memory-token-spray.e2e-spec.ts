import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryTokenCacheStore } from '../../lib/cache/memory-token-cache.store';
import { TokenCache } from '../../lib/cache/token-cache';
import { OAuth2Exception } from '../../lib/errors/oauth2.exception';
import { TokenIntrospectionService } from '../../lib/guards/token-introspection.service';
import type { IntrospectionResult } from '../../lib/interfaces/introspection.interface';
import type { OAuth2Resource } from '../../lib/resources/oauth2-resource';

/**
 * Issue 5's token spray, on the cache path: 100,000 distinct tokens through the introspection
 * service and a memory cache bounded to 1,000 entries. HTTP is left out (100,000 requests are too
 * heavy for the test suite); the path under test is the one every request takes after the token
 * is read: key, single-flight, cache, introspection, cache write.
 */

const SPRAY = 100_000;
const MAX_ENTRIES = 1000;
const BATCH = 1000;

/** `global.gc`, made available for this file only (the flag is set at run time, not for the whole suite). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** A resource whose server answers at once: every token inactive (a spray), or every token active. */
function instantResource(active: boolean): OAuth2Resource & { calls: number } {
  const inactive: IntrospectionResult = { active: false, payload: Object.freeze({ active: false }) };
  const resource = {
    name: 'as',
    calls: 0,
    async introspect(): Promise<IntrospectionResult> {
      resource.calls += 1;
      return active
        ? { active: true, payload: Object.freeze({ active: true, client_id: 'c1', scope: 'read' }) }
        : inactive;
    },
  };
  return resource as unknown as OAuth2Resource & { calls: number };
}

const sprayToken = (index: number) => `spray-${index}-${randomBytes(16).toString('base64url')}`;

/** `activePayload` answers a cache hit at once and may throw at once: as a promise, for these loops. */
function lookUp(service: TokenIntrospectionService, resource: OAuth2Resource, cache: TokenCache, token: string) {
  return Promise.resolve().then(() => service.activePayload(resource, cache, token));
}

describe('a spray of 100,000 distinct tokens on a memory cache of 1,000 entries', () => {
  const gc = collector();
  const heapUsed = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };

  /** Sends `count` fresh tokens through the service, `BATCH` at a time; checks the bound after each batch. */
  async function spray(
    service: TokenIntrospectionService,
    resource: OAuth2Resource,
    cache: TokenCache,
    store: MemoryTokenCacheStore,
    count: number,
  ) {
    let largest = 0;
    for (let start = 0; start < count; start += BATCH) {
      await Promise.all(
        Array.from({ length: BATCH }, (_, offset) =>
          lookUp(service, resource, cache, sprayToken(start + offset)).catch((error: unknown) => {
            if (!(error instanceof OAuth2Exception)) {
              throw error;
            }
          }),
        ),
      );
      largest = Math.max(largest, store.size);
    }
    return largest;
  }

  it.each([
    ['inactive tokens, kept by negativeTimeToLiveSeconds', false],
    ['active tokens', true],
  ])(
    '%s: the cache stays within maxEntries, and the heap does not grow with the spray',
    async (_, active) => {
      const store = new MemoryTokenCacheStore(MAX_ENTRIES);
      const cache = new TokenCache('spray', store, { timeToLiveSeconds: 300, negativeTimeToLiveSeconds: 60 });
      const resource = instantResource(active);
      const service = new TokenIntrospectionService();
      try {
        const empty = heapUsed();
        // Fill the cache first, so that the baseline holds the 1,000 entries the bound allows.
        await spray(service, resource, cache, store, 2 * MAX_ENTRIES);
        const full = heapUsed();
        const started = performance.now();
        const largest = await spray(service, resource, cache, store, SPRAY);
        const elapsed = performance.now() - started;
        const after = heapUsed();

        expect(largest).toBeLessThanOrEqual(MAX_ENTRIES);
        expect(store.size).toBeLessThanOrEqual(MAX_ENTRIES);
        expect(resource.calls).toBe(SPRAY + 2 * MAX_ENTRIES);
        const growth = after - full;
        expect(growth).toBeLessThan(8 * 1024 * 1024);
        console.info(
          `[spray, ${active ? 'active' : 'inactive'}] ${SPRAY} tokens in ${elapsed.toFixed(0)} ms ` +
            `(${((elapsed * 1000) / SPRAY).toFixed(1)} µs each); entries ≤ ${largest}; heap: empty ${mb(empty)}, ` +
            `with ${MAX_ENTRIES} entries ${mb(full)} (${((full - empty) / MAX_ENTRIES) | 0} B/entry), ` +
            `after the spray ${mb(after)} (growth ${mb(growth)})`,
        );
      } finally {
        await cache.close();
      }
    },
    30_000,
  );

  it('keeps the most recent tokens: the last 1,000 of the spray are hits', async () => {
    const store = new MemoryTokenCacheStore(MAX_ENTRIES);
    const cache = new TokenCache('spray', store, { timeToLiveSeconds: 300, negativeTimeToLiveSeconds: 60 });
    const resource = instantResource(false);
    const service = new TokenIntrospectionService();
    try {
      const tokens = Array.from({ length: 5 * MAX_ENTRIES }, (_, index) => sprayToken(index));
      for (const token of tokens) {
        await lookUp(service, resource, cache, token).catch(() => undefined);
      }
      const calls = resource.calls;
      for (const token of tokens.slice(-MAX_ENTRIES)) {
        await expect(lookUp(service, resource, cache, token)).rejects.toMatchObject({
          key: 'OAUTH2_INVALID_ACCESS_TOKEN',
        });
      }
      expect(resource.calls).toBe(calls);
      await lookUp(service, resource, cache, tokens[0]).catch(() => undefined);
      expect(resource.calls).toBe(calls + 1);
    } finally {
      await cache.close();
    }
  });
});

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
