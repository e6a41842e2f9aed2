import { Injectable, Logger, Optional } from '@nestjs/common';
import { TokenCache } from '../cache/token-cache';
import type { CachedIntrospection } from '../cache/token-cache-store.interface';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { OAuth2Exception } from '../errors/oauth2.exception';
import type { IntrospectionPayload, IntrospectionResult } from '../interfaces/introspection.interface';
import { AuthorizationServerError } from '../resources/authorization-server.error';
import type { OAuth2Resource } from '../resources/oauth2-resource';
import { OAuth2Telemetry } from '../telemetry/oauth2-telemetry';

/** A look-up under way, and the cache's eviction mark when it began. */
interface Flight {
  readonly promise: Promise<IntrospectionPayload>;
  readonly mark: number;
}

/**
 * How many times a look-up introspects when the token is evicted while its introspection is under
 * way (each answer obtained across an eviction is thrown away); past that, the request is refused.
 */
const MAX_INTROSPECTIONS = 3;

/**
 * Turns a token into the payload of an active token: from the cache when it has the answer, else by
 * introspection at the resource. Concurrent requests for the same token (at the same resource and
 * cache) share one look-up: one cache read and, on a miss, one introspection, not N.
 * Failures are never cached; inactive answers only when the cache has a negative TTL.
 *
 * Revocation: once the cache's `evict()` has resolved, no request is allowed on an answer from an
 * introspection that began before it. A request then starts a look-up of its own rather than join
 * one begun before; a look-up whose active answer comes back across an eviction of its token (on this
 * instance, or a tombstone in a shared store) throws it away unwritten and introspects again.
 */
@Injectable()
export class TokenIntrospectionService {
  private readonly logger = new Logger('OAuth2Guard');
  /** The look-ups under way, by cache and key: as many as distinct tokens being resolved right now. */
  private readonly inFlight = new Map<string, Flight>();
  /** Payloads served stale (see {@link isStale}); filled only by caches with `staleIfErrorSeconds`. */
  private readonly stalePayloads = new WeakSet<IntrospectionPayload>();
  private servedStale = false;

  constructor(@Optional() private readonly telemetry?: OAuth2Telemetry) {}

  /**
   * Whether a payload was served stale: from a cache entry past its freshness, because the
   * authorization server was unavailable. One property read until a stale payload was ever served.
   */
  isStale(payload: IntrospectionPayload): boolean {
    return this.servedStale && this.stalePayloads.has(payload);
  }

  /**
   * The payload of a token that an in-memory cache remembers beside its fresh, active entry (see
   * `TokenCache.peekToken`): the hit path of a token seen before, at once. `undefined` otherwise (not
   * remembered, past its freshness, inactive, or no such cache), and then {@link activePayload} answers.
   * A token found here has RFC 6750's `b64token` syntax: the cache remembers no other.
   *
   * @param token the token, or the `Authorization` value the cache remembers it by
   *   (`TokenCache.rememberWriting`).
   * @param now the caller's clock reading (`Date.now()`), for one reading per request.
   */
  rememberedPayload(
    resource: OAuth2Resource,
    cache: TokenCache,
    token: string,
    now?: number,
  ): IntrospectionPayload | undefined {
    // An inactive token's entry is left to activePayload(), which rejects it.
    return cache.peekActiveToken(resource.name, token, now);
  }

  /**
   * The payload of an active token: at once (not a promise) when an in-memory cache has it, so that
   * a cache hit costs no event-loop turn; else a promise.
   *
   * @throws OAuth2Exception `OAUTH2_INVALID_ACCESS_TOKEN` for an inactive token, or the key of the
   *   authorization server's failure (thrown at once for a cached inactive token, else rejected).
   */
  activePayload(
    resource: OAuth2Resource,
    cache: TokenCache | undefined,
    token: string,
  ): IntrospectionPayload | Promise<IntrospectionPayload> {
    // A token looked up a moment ago: found by the token itself, in this process's memory, unhashed.
    let cached = cache?.peekToken(resource.name, token);
    if (cached) {
      return payloadOf(cached);
    }
    const key = cache ? cache.keyOf(resource.name, token) : TokenCache.key(resource.name, token);
    cached = cache?.peek(key, resource.name, token);
    if (cached) {
      return payloadOf(cached);
    }
    // The cache read is part of the shared look-up: a request that finds no look-up under way starts
    // one, and the look-up that caches an answer ends only once the answer is in the cache, so no
    // request can miss in between and introspect the same token a second time.
    const flightKey = cache ? `${cache.name}\0${key}` : key;
    const current = this.inFlight.get(flightKey);
    // A look-up begun before the token was evicted is not joined: its answer may predate the revocation.
    if (current && !(cache && cache.evictedSince(key, current.mark))) {
      return current.promise;
    }
    const mark = cache ? cache.evictionMark() : 0;
    const flight: Flight = {
      mark,
      promise: cache ? this.lookUp(resource, cache, token, key, mark) : this.introspectActive(resource, token),
    };
    this.inFlight.set(flightKey, flight);
    const forget = () => {
      if (this.inFlight.get(flightKey) === flight) {
        this.inFlight.delete(flightKey);
      }
    };
    flight.promise.then(forget, forget);
    return flight.promise;
  }

  private async lookUp(
    resource: OAuth2Resource,
    cache: TokenCache,
    token: string,
    key: string,
    mark: number,
  ): Promise<IntrospectionPayload> {
    // Whether the shared store's tombstones must be checked: not for an in-memory cache, which no
    // other instance evicts, and not once a tombstone was seen before introspecting (the answer then
    // comes after the revocation).
    let checkTombstone = !cache.peekable;
    let release: (() => Promise<void>) | undefined;
    // An in-memory cache was read synchronously by `activePayload`: its miss stands.
    if (!cache.peekable) {
      const entry = await cache.get(key);
      if (entry && !cache.evictedSince(key, mark)) {
        return payloadOf(entry);
      }
      checkTombstone = !(await cache.revoked(key));
      // Another instance may be introspecting the token right now: wait for its answer, bounded.
      const turn = await cache.singleFlight?.turn(key);
      if (turn?.entry && !cache.evictedSince(key, mark)) {
        return payloadOf(turn.entry);
      }
      release = turn?.release;
    }
    try {
      return await this.introspectAndKeep(resource, cache, token, key, mark, checkTombstone);
    } finally {
      // After the answer is in the cache: the instances waiting for it find it there.
      await release?.();
    }
  }

  private async introspectAndKeep(
    resource: OAuth2Resource,
    cache: TokenCache,
    token: string,
    key: string,
    mark: number,
    checkTombstone: boolean,
  ): Promise<IntrospectionPayload> {
    for (let attempt = 1; ; attempt += 1) {
      let result: IntrospectionResult;
      try {
        result = await this.introspect(resource, token);
      } catch (error) {
        const stale = await this.staleIfError(cache, key, mark, error);
        if (stale === undefined) {
          throw error;
        }
        return stale;
      }
      if (!result.active) {
        await cache.set(key, result, mark);
        throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
      }
      if (!cache.evictedSince(key, mark) && !(checkTombstone && (await cache.revoked(key)))) {
        await cache.set(key, result, mark);
        // A tombstone written between the check and the write: take the write back.
        if (!(checkTombstone && (await cache.revoked(key)))) {
          return result.payload;
        }
        await cache.discard(key);
      }
      // The token was evicted while it was being introspected: the answer may predate its revocation.
      if (attempt === MAX_INTROSPECTIONS) {
        throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE);
      }
      mark = cache.evictionMark();
      checkTombstone = false;
    }
  }

  /**
   * Stale-if-error: when the server is unavailable and the cache keeps an active entry of the token
   * past its freshness, that entry's payload, else `undefined`.
   */
  private async staleIfError(
    cache: TokenCache,
    key: string,
    mark: number,
    error: unknown,
  ): Promise<IntrospectionPayload | undefined> {
    if (
      !cache.servesStale ||
      !(error instanceof OAuth2Exception) ||
      error.key !== OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE
    ) {
      return undefined;
    }
    const entry = await cache.stale(key, mark);
    if (entry?.active !== true) {
      return undefined;
    }
    this.stalePayloads.add(entry.payload);
    this.servedStale = true;
    return entry.payload;
  }

  private async introspectActive(resource: OAuth2Resource, token: string): Promise<IntrospectionPayload> {
    const result = await this.introspect(resource, token);
    if (!result.active) {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
    }
    return result.payload;
  }

  private introspect(resource: OAuth2Resource, token: string): Promise<IntrospectionResult> {
    const telemetry = this.telemetry;
    return telemetry?.tracesIntrospections
      ? telemetry.introspect(resource.name, () => this.callServer(resource, token))
      : this.callServer(resource, token);
  }

  private async callServer(resource: OAuth2Resource, token: string): Promise<IntrospectionResult> {
    try {
      return await resource.introspect(token);
    } catch (error) {
      if (error instanceof AuthorizationServerError) {
        throw new OAuth2Exception(error.key, { retryAfterSeconds: error.retryAfterSeconds });
      }
      // A bug or an unexpected failure: the request is refused, and nothing of the token is logged.
      this.logger.error(`introspection at resource '${resource.name}' failed unexpectedly (${nameOf(error)})`);
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE);
    }
  }
}

/** The payload of a cached answer; an inactive one is refused. */
function payloadOf(entry: CachedIntrospection): IntrospectionPayload {
  if (!entry.active) {
    throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
  }
  return entry.payload;
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
