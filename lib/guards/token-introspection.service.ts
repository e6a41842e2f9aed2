import { Injectable, Logger } from '@nestjs/common';
import { TokenCache } from '../cache/token-cache';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { OAuth2Exception } from '../errors/oauth2.exception';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import { AuthorizationServerError } from '../resources/authorization-server.error';
import type { OAuth2Resource } from '../resources/oauth2-resource';

/**
 * Turns a token into the payload of an active token: from the cache when it has one, else by
 * introspection at the resource, which concurrent requests for the same token share (one call, not N).
 * Inactive tokens and failures are never cached.
 */
@Injectable()
export class TokenIntrospectionService {
  private readonly logger = new Logger('OAuth2Guard');
  private readonly inFlight = new Map<string, Promise<IntrospectionPayload>>();

  /**
   * The payload of an active token.
   *
   * @throws OAuth2Exception `OAUTH2_INVALID_ACCESS_TOKEN` for an inactive token, or the key of the
   *   authorization server's failure.
   */
  async activePayload(resource: OAuth2Resource, cache: TokenCache | undefined, token: string): Promise<IntrospectionPayload> {
    const key = TokenCache.key(resource.name, token);
    if (cache) {
      const cached = await cache.get(key);
      if (cached) {
        return cached;
      }
    }
    const flightKey = cache ? `${cache.name}\0${key}` : key;
    let flight = this.inFlight.get(flightKey);
    if (!flight) {
      flight = this.introspectAndCache(resource, cache, token, key).finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, flight);
    }
    return flight;
  }

  private async introspectAndCache(
    resource: OAuth2Resource,
    cache: TokenCache | undefined,
    token: string,
    key: string,
  ): Promise<IntrospectionPayload> {
    let active: boolean;
    let payload: IntrospectionPayload;
    try {
      ({ active, payload } = await resource.introspect(token));
    } catch (error) {
      if (error instanceof AuthorizationServerError) {
        throw new OAuth2Exception(error.key);
      }
      // A bug or an unexpected failure: the request is refused, and nothing of the token is logged.
      this.logger.error(`introspection at resource '${resource.name}' failed unexpectedly (${nameOf(error)})`);
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE);
    }
    if (!active) {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
    }
    if (cache) {
      await cache.set(key, payload);
    }
    return payload;
  }
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
