import { Injectable, Logger } from '@nestjs/common';
import { TokenCache } from '../cache/token-cache';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { OAuth2Exception } from '../errors/oauth2.exception';
import type { IntrospectionPayload, IntrospectionResult } from '../interfaces/introspection.interface';
import { AuthorizationServerError } from '../resources/authorization-server.error';
import type { OAuth2Resource } from '../resources/oauth2-resource';

/**
 * Turns a token into the payload of an active token: from the cache when it has the answer, else by
 * introspection at the resource. Concurrent requests for the same token (at the same resource and
 * cache) share one look-up: one cache read and, on a miss, one introspection, not N.
 * Failures are never cached; inactive answers only when the cache has a negative TTL.
 */
@Injectable()
export class TokenIntrospectionService {
  private readonly logger = new Logger('OAuth2Guard');
  /** The look-ups under way, by cache and key: as many as distinct tokens being resolved right now. */
  private readonly inFlight = new Map<string, Promise<IntrospectionPayload>>();

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
    const key = cache ? cache.keyOf(resource.name, token) : TokenCache.key(resource.name, token);
    const cached = cache?.peek(key);
    if (cached) {
      if (!cached.active) {
        throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
      }
      return cached.payload;
    }
    // The cache read is part of the shared look-up: a request that finds no look-up under way starts
    // one, and the look-up that caches an answer ends only once the answer is in the cache, so no
    // request can miss in between and introspect the same token a second time.
    const flightKey = cache ? `${cache.name}\0${key}` : key;
    let flight = this.inFlight.get(flightKey);
    if (!flight) {
      flight = this.lookUp(resource, cache, token, key);
      this.inFlight.set(flightKey, flight);
      const forget = () => this.inFlight.delete(flightKey);
      flight.then(forget, forget);
    }
    return flight;
  }

  private async lookUp(
    resource: OAuth2Resource,
    cache: TokenCache | undefined,
    token: string,
    key: string,
  ): Promise<IntrospectionPayload> {
    // An in-memory cache was read synchronously by `activePayload`: its miss stands.
    if (cache && !cache.peekable) {
      const entry = await cache.get(key);
      if (entry) {
        if (!entry.active) {
          throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
        }
        return entry.payload;
      }
    }
    const mark = cache?.evictionMark();
    const result = await this.introspect(resource, token);
    if (cache) {
      await cache.set(key, result, mark);
    }
    if (!result.active) {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
    }
    return result.payload;
  }

  private async introspect(resource: OAuth2Resource, token: string): Promise<IntrospectionResult> {
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

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
