import { type Cache, createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { ClockMap } from './clock-map';
import type { CachedIntrospection, TokenCacheStore } from './token-cache-store.interface';

/** What Keyv hands its store for each entry when it has no serializer. */
interface KeyvRecord {
  readonly value: CachedIntrospection;
  readonly expires?: number | null;
}

/**
 * An in-process store: cache-manager over Keyv over a {@link ClockMap} bounded to `maxEntries` (when
 * full, an entry not read lately goes first), optionally dropping entries left unread for a while. Entries are kept as the frozen objects they are, neither
 * serialized nor cloned, so a hit costs no JSON parsing; a hit marks the entry as used but never
 * extends its life.
 */
export class MemoryTokenCacheStore implements TokenCacheStore {
  private readonly records: ClockMap<KeyvRecord>;
  private readonly cache: Cache;

  /** The look-up by token, with `rememberTokens`; absent without it (then callers hash every token). */
  readonly peekToken?: (resourceName: string, token: string, now?: number) => CachedIntrospection | undefined;
  readonly rememberToken?: (key: string, resourceName: string, token: string) => void;
  readonly rememberWriting?: (resourceName: string, token: string, written: string) => void;

  /**
   * @param maxEntries most entries kept.
   * @param idleMilliseconds an entry not read for this long goes (`timeToIdleSeconds`); never later than its TTL.
   * @param rememberTokens keep an entry's token beside it from its first hit on (`rememberTokens`, default true).
   */
  constructor(maxEntries: number, idleMilliseconds?: number, rememberTokens = true) {
    this.records = new ClockMap(maxEntries, idleMilliseconds);
    if (rememberTokens) {
      // Called as methods of the store (`store.peekToken(...)`), so `this` is the store.
      this.peekToken = this.entryOfToken;
      this.rememberToken = this.aliasOf;
      this.rememberWriting = this.writingOf;
    }
    const keyv = new Keyv({ store: this.records, serialize: undefined, deserialize: undefined, useKeyPrefix: false });
    this.cache = createCache({ stores: [keyv] });
  }

  /** How many entries have their token remembered beside them (see {@link rememberToken}). */
  get rememberedTokens(): number {
    return this.records.aliasCount;
  }

  /** How many entries the store holds, expired ones not yet dropped included. */
  get size(): number {
    return this.records.size;
  }

  async get(key: string): Promise<CachedIntrospection | undefined> {
    return (await this.cache.get<CachedIntrospection>(key)) ?? undefined;
  }

  /**
   * The hot path: the map read directly, past cache-manager's and Keyv's promises. Keyv keeps
   * its `{ value, expires }` record as it is (no serializer); an expired one is dropped here, as
   * Keyv would on its own read.
   */
  peek(key: string): CachedIntrospection | undefined {
    // One clock reading per hit, for both the idle check and the expiry.
    const now = Date.now();
    const record = this.records.get(key, now);
    if (record === undefined) {
      return undefined;
    }
    if (typeof record.expires === 'number' && record.expires <= now) {
      this.records.delete(key);
      return undefined;
    }
    return record.value;
  }

  /**
   * The hot path of a token seen before: its entry found by the token itself, without hashing it
   * (see {@link rememberToken}).
   *
   * @param now the caller's clock reading, in milliseconds, when it has one (one reading per request).
   */
  private entryOfToken(
    this: MemoryTokenCacheStore,
    resourceName: string,
    token: string,
    now = Date.now(),
  ): CachedIntrospection | undefined {
    const record = this.records.getByAlias(resourceName, token, now);
    if (record === undefined) {
      return undefined;
    }
    if (typeof record.expires === 'number' && record.expires <= now) {
      this.records.deleteByAlias(resourceName, token);
      return undefined;
    }
    return record.value;
  }

  /**
   * Remembers the token of an entry beside it, so that its next look-ups skip the hash: in this
   * process's memory only, one token per entry (so bounded by `maxEntries`), and dropped with the
   * entry (expired, evicted, deleted, idle or replaced).
   */
  private aliasOf(this: MemoryTokenCacheStore, key: string, resourceName: string, token: string): void {
    this.records.alias(key, resourceName, token);
  }

  /**
   * Renames a remembered token to the text it was read from (see {@link rememberWriting}): still one
   * name per entry, dropped with it, in this process's memory only.
   */
  private writingOf(this: MemoryTokenCacheStore, resourceName: string, token: string, written: string): void {
    this.records.renameAlias(resourceName, token, written);
  }

  async set(key: string, entry: CachedIntrospection, ttlMilliseconds: number): Promise<void> {
    await this.cache.set(key, entry, ttlMilliseconds);
  }

  async delete(key: string): Promise<void> {
    await this.cache.del(key);
  }

  async close(): Promise<void> {
    await this.cache.disconnect();
  }
}
