import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import type { TokenCacheStore } from './token-cache-store.interface';

/**
 * A cache resource: keeps introspection payloads of active tokens, keyed by a hash of resource name
 * and token, for at most `timeToLiveSeconds` and never past the token's `exp`. The guard checks
 * `active`, `exp`, `nbf` and scopes on every request, hit or miss: the cache holds answers, not
 * decisions. A failing store is a miss, never a failed request.
 */
export class TokenCache {
  private readonly logger = new Logger('OAuth2Cache');
  private failing = false;

  constructor(
    /** The cache resource's name. */
    readonly name: string,
    private readonly store: TokenCacheStore,
    private readonly timeToLiveSeconds: number,
  ) {}

  /** The store key of a token at a resource: never the token itself. */
  static key(resourceName: string, token: string): string {
    return createHash('sha256').update(resourceName).update('\0').update(token).digest('base64url');
  }

  /**
   * How long a payload may be kept, in milliseconds: `min(exp - now, timeToLiveSeconds)`;
   * `undefined` when it must not be kept (inactive, expired, or `exp` unreadable).
   */
  static ttlMilliseconds(payload: IntrospectionPayload, timeToLiveSeconds: number, now = Date.now()): number | undefined {
    const cap = timeToLiveSeconds * 1000;
    if (payload.exp === undefined) {
      return cap;
    }
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
      return undefined;
    }
    const untilExpiry = Math.floor(payload.exp * 1000 - now);
    const ttl = Math.min(untilExpiry, cap);
    return ttl > 0 ? ttl : undefined;
  }

  /** The cached payload of a token, or `undefined` (a miss, or a store that failed). */
  async get(key: string): Promise<IntrospectionPayload | undefined> {
    try {
      const payload = await this.store.get(key);
      this.recovered();
      return payload;
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  /** Keeps the payload of an active token, for as long as it may be kept. Never throws. */
  async set(key: string, payload: IntrospectionPayload): Promise<void> {
    const ttl = TokenCache.ttlMilliseconds(payload, this.timeToLiveSeconds);
    if (ttl === undefined) {
      return;
    }
    try {
      await this.store.set(key, payload, ttl);
      this.recovered();
    } catch (error) {
      this.failed(error);
    }
  }

  /** Drops a token's entry, e.g. when it is revoked. */
  async evict(resourceName: string, token: string): Promise<void> {
    await this.store.delete(TokenCache.key(resourceName, token));
  }

  /** Releases the store. */
  async close(): Promise<void> {
    await this.store.close();
  }

  private failed(error: unknown): void {
    if (!this.failing) {
      this.failing = true;
      const reason = error instanceof Error ? error.name : 'error';
      this.logger.warn(`cache '${this.name}' fails (${reason}): tokens are introspected until it works again`);
    }
  }

  private recovered(): void {
    if (this.failing) {
      this.failing = false;
      this.logger.log(`cache '${this.name}' works again`);
    }
  }
}
