import { jest } from '@jest/globals';
import { MemoryTokenCacheStore } from '../cache/memory-token-cache.store';
import { TokenCache } from '../cache/token-cache';
import type { CachedIntrospection, TokenCacheStore } from '../cache/token-cache-store.interface';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import type { IntrospectionResult } from '../interfaces/introspection.interface';
import type { OAuth2Resource } from '../resources/oauth2-resource';
import { TokenIntrospectionService } from './token-introspection.service';

/** A store that other instances share (no peek), with a hook before each write. */
class SharedStore implements TokenCacheStore {
  readonly memory = new MemoryTokenCacheStore(100);
  beforeSet?: (key: string) => Promise<void>;

  get(key: string): Promise<CachedIntrospection | undefined> {
    return this.memory.get(key);
  }
  async set(key: string, entry: CachedIntrospection, ttl: number): Promise<void> {
    await this.beforeSet?.(key);
    await this.memory.set(key, entry, ttl);
  }
  delete(key: string): Promise<void> {
    return this.memory.delete(key);
  }
  async close(): Promise<void> {}
}

const activeAnswer: IntrospectionResult = { active: true, payload: Object.freeze({ active: true, scope: 'read' }) };
const inactiveAnswer: IntrospectionResult = { active: false, payload: Object.freeze({ active: false }) };

function resourceAnswering(...answers: IntrospectionResult[]) {
  const introspect = jest.fn(async (_token: string) => answers.shift() ?? inactiveAnswer);
  return { resource: { name: 'as', introspect } as unknown as OAuth2Resource, introspect };
}

describe('TokenIntrospectionService and evictions in a shared store', () => {
  const service = new TokenIntrospectionService();

  it('takes back a write that a tombstone overtook between its check and the write, and introspects again', async () => {
    const store = new SharedStore();
    const here = new TokenCache('shared', store, { timeToLiveSeconds: 300 });
    const elsewhere = new TokenCache('shared', store, { timeToLiveSeconds: 300 });
    const key = here.keyOf('as', 'tok');
    let evicted = false;
    store.beforeSet = async (written) => {
      if (written === key && !evicted) {
        evicted = true;
        await elsewhere.evict('as', 'tok'); // another instance's revocation lands just now
      }
    };
    const { resource, introspect } = resourceAnswering(activeAnswer, inactiveAnswer);

    await expect(service.activePayload(resource, here, 'tok')).rejects.toMatchObject({
      key: OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN,
    });
    expect(introspect).toHaveBeenCalledTimes(2);
    expect(await store.memory.get(key)).toBeUndefined();
  });

  it('trusts and keeps an answer introspected after a tombstone was seen: one introspection', async () => {
    const store = new SharedStore();
    const cache = new TokenCache('shared', store, { timeToLiveSeconds: 300 });
    await new TokenCache('shared', store, { timeToLiveSeconds: 300 }).evict('as', 'tok');
    const { resource, introspect } = resourceAnswering(activeAnswer);

    await expect(service.activePayload(resource, cache, 'tok')).resolves.toEqual(activeAnswer.payload);
    expect(introspect).toHaveBeenCalledTimes(1);
    expect(await cache.get(cache.keyOf('as', 'tok'))).toEqual({ active: true, payload: activeAnswer.payload });
  });

  it('refuses, rather than introspect without end, a token evicted during each of its introspections', async () => {
    const cache = new TokenCache('memory', new MemoryTokenCacheStore(10), { timeToLiveSeconds: 300 });
    const introspect = jest.fn(async (_token: string) => {
      await cache.evict('as', 'tok');
      return activeAnswer;
    });
    const resource = { name: 'as', introspect } as unknown as OAuth2Resource;

    await expect(service.activePayload(resource, cache, 'tok')).rejects.toMatchObject({
      key: OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE,
    });
    expect(introspect).toHaveBeenCalledTimes(3);
    expect(cache.peek(cache.keyOf('as', 'tok'))).toBeUndefined();
  });
});
