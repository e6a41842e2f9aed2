import { Logger } from '@nestjs/common';
import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { isJsonObject } from '../common/is-json-object';
import { readEntry } from './cached-introspection';
import type { CachedIntrospection } from './token-cache-store.interface';

/** What a sealed store holds under a key: the entry's JSON, and its MAC. */
export interface SealedEntry {
  readonly entry: string;
  readonly mac: string;
}

/** HKDF's `info`: the value MAC's key is derived apart from the key-hashing use of the same secret. */
const MAC_KEY_INFO = 'nestjs-oauth2-policy cache value MAC v1';
/** A stored MAC's text: HMAC-SHA-256's 32 bytes in base64url, without padding. */
const MAC_TEXT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Authenticates the values of a store that others can write to (Redis, a store the application
 * supplies), under a key derived from the cache's `hmacSecret`: each value carries an HMAC-SHA-256
 * over the store key and the entry's JSON, so an entry edited in the store (a scope added), written
 * without the secret, or copied from another key, is refused and counts as a miss. The first such
 * entry is logged, later ones are not: a store full of them must not fill the log, and the line names
 * the cache only, never a key or a value.
 */
export class EntrySeal {
  private readonly logger = new Logger('OAuth2Cache');
  private readonly macKey: KeyObject;
  private reported = false;

  constructor(
    hmacSecret: string,
    /** The cache resource's name, for the log line. */
    private readonly cacheName: string,
  ) {
    const derived = hkdfSync('sha256', Buffer.from(hmacSecret, 'utf8'), Buffer.alloc(0), MAC_KEY_INFO, 32);
    this.macKey = createSecretKey(Buffer.from(derived));
  }

  /** The value to store under `storeKey` (the full key, prefix included). */
  seal(storeKey: string, entry: CachedIntrospection): SealedEntry {
    const json = JSON.stringify(entry);
    return { entry: json, mac: this.mac(storeKey, json).toString('base64url') };
  }

  /** The entry of a value read under `storeKey`, or `undefined` when its MAC is missing or wrong. */
  open(storeKey: string, value: unknown): CachedIntrospection | undefined {
    // A SHA-256 MAC in base64url is exactly 43 characters of its alphabet: Buffer.from() would skip any
    // other character, and a MAC text with extra ones would pass (malleable, though not forgeable).
    if (
      isJsonObject(value) &&
      typeof value.entry === 'string' &&
      typeof value.mac === 'string' &&
      MAC_TEXT.test(value.mac)
    ) {
      const expected = this.mac(storeKey, value.entry);
      const given = Buffer.from(value.mac, 'base64url');
      if (given.length === expected.length && timingSafeEqual(given, expected)) {
        const entry = readEntry(parseJson(value.entry));
        if (entry) {
          return entry;
        }
      }
    }
    this.refused();
    return undefined;
  }

  /** The MAC's bytes: compared as they are on a read, encoded only to be stored. */
  private mac(storeKey: string, json: string): Buffer {
    // The key's length first: no key and entry pair can be read as another split of the same bytes.
    return createHmac('sha256', this.macKey)
      .update(`${Buffer.byteLength(storeKey)}:${storeKey}\0`)
      .update(json)
      .digest();
  }

  private refused(): void {
    if (this.reported) {
      return;
    }
    this.reported = true;
    this.logger.warn(
      `cache '${this.cacheName}' holds an entry that fails its MAC (edited in the store, written without this hmacSecret, or copied from another key): it is a miss, and the token is introspected; further ones are not logged`,
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
