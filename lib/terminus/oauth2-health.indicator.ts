import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { TokenCache } from '../cache/token-cache';
import { TokenCacheRegistry } from '../cache/token-cache.registry';
import type { OAuth2Resource } from '../resources/oauth2-resource';
import { OAuth2ResourceRegistry } from '../resources/oauth2-resource.registry';

/**
 * A `@nestjs/terminus` health indicator for the module's dependencies: one entry per resource
 * (`<key>:resource:<name>`), up when its authorization server answers a throwaway introspection within
 * the resource's timeout (see {@link OAuth2Resource.checkHealth}), and one per Redis cache
 * (`<key>:cache:<name>`), up when it answers `PING` within the cache's timeout. Checks go around the
 * circuit breakers, the caches and the outage logs; entries hold names, latencies, the circuit's state
 * and HTTP statuses, never a token, secret or URL.
 *
 * Provide it in a module that imports `TerminusModule`, beside the global `OAuth2Module`.
 *
 * @example
 * @Controller('health')
 * export class HealthController {
 *   constructor(private readonly health: HealthCheckService, private readonly oauth2: OAuth2HealthIndicator) {}
 *
 *   @Get()
 *   @HealthCheck()
 *   check() {
 *     return this.health.check([() => this.oauth2.check()]);
 *   }
 * }
 */
@Injectable()
export class OAuth2HealthIndicator {
  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    private readonly resources: OAuth2ResourceRegistry,
    private readonly caches: TokenCacheRegistry,
  ) {}

  /**
   * Checks every resource's authorization server and every Redis cache, at once.
   *
   * @param key the prefix of the entries' keys.
   * @returns one entry per resource and per Redis cache, each `up` or `down`.
   */
  async check(key = 'oauth2'): Promise<HealthIndicatorResult> {
    const caches = this.caches
      .names()
      .map((name) => this.caches.get(name))
      .filter((cache) => cache.pingable);
    const entries = await Promise.all([
      ...this.resources.names().map((name) => this.checkResource(key, this.resources.get(name))),
      ...caches.map((cache) => this.checkCache(key, cache)),
    ]);
    return Object.assign({}, ...entries) as HealthIndicatorResult;
  }

  /** The entry of one resource. */
  protected async checkResource(key: string, resource: OAuth2Resource): Promise<HealthIndicatorResult> {
    const health = await resource.checkHealth();
    const session = this.healthIndicatorService.check(`${key}:resource:${resource.name}`);
    const details = {
      resource: resource.name,
      latencyMs: health.latencyMs,
      circuit: health.circuit,
      ...(health.httpStatus !== undefined && { httpStatus: health.httpStatus }),
      ...(health.reason !== undefined && { reason: health.reason }),
    };
    return health.up ? session.up(details) : session.down(details);
  }

  /** The entry of one Redis cache. */
  protected async checkCache(key: string, cache: TokenCache): Promise<HealthIndicatorResult> {
    const session = this.healthIndicatorService.check(`${key}:cache:${cache.name}`);
    const started = performance.now();
    try {
      await cache.ping();
      return session.up({ cache: cache.name, latencyMs: Math.round(performance.now() - started) });
    } catch (error) {
      return session.down({
        cache: cache.name,
        latencyMs: Math.round(performance.now() - started),
        reason: describeCacheFailure(error),
      });
    }
  }
}

/**
 * A short reason for a failed `PING`: a timeout's own message, else the error's code or class name.
 * Client messages are not used: they may quote the connection's URL, and so its password.
 */
function describeCacheFailure(error: unknown): string {
  const { name, code, message } = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  if (name === 'TimeoutError' && typeof message === 'string') {
    return message;
  }
  if (typeof code === 'string') {
    return `could not be reached (${code})`;
  }
  return `failed (${typeof name === 'string' ? name : 'unknown error'})`;
}
