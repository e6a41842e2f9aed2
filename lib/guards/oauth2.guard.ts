import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { TokenCache } from '../cache/token-cache';
import { TokenCacheRegistry } from '../cache/token-cache.registry';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { OAuth2Exception } from '../errors/oauth2.exception';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import type { OAuth2ResourceSelector, ResolvedOAuth2Policy } from '../interfaces/policy-options.interface';
import { OAUTH2_RESOLVED_OPTIONS, OPTIONAL_METADATA, SKIP_METADATA } from '../oauth2.constants';
import type { ResolvedOAuth2ModuleOptions } from '../options/resolved-options';
import { OAuth2Resource } from '../resources/oauth2-resource';
import { OAuth2ResourceRegistry } from '../resources/oauth2-resource.registry';
import {
  GuardedRequest,
  countRequestBearerValues,
  findRequestBearerCredential,
  queryParamValues,
  removeAuthorizationHeaders,
  removeQueryParam,
} from '../request/http-request';
import { OAuth2RequestState, freshRequestState, requestState } from '../request/oauth2-request-state';
import { transportRejection, removeTransportCredential } from '../transports/transport-rejection';
import { guardedCallOf, isHttpRequest } from '../transports/transport-request';
import { isB64Token, trimOws } from './bearer-token';
import { TokenClaims, readClaims, timeClaimsRejection } from './payload-claims';
import { RouteMemo } from './route-memo';
import { routePolicy } from './route-policy';
import { hasRequiredScopes } from './scopes';
import { audienceMatches, issuerMatches } from './token-binding';
import { TokenIntrospectionService } from './token-introspection.service';

/** The query parameter of RFC 6750 §2.3. */
const ACCESS_TOKEN_PARAM = 'access_token';

/**
 * The `oauth2` policy as a guard: checks the request's bearer token by introspection at an
 * authorization server, caches the answer, checks the route's required scopes, and attaches the
 * policy's attributes to the request. Rejections throw an {@link OAuth2Exception} with the policy's
 * error key, which the module renders.
 *
 * Bind it with `@UseGuards(OAuth2Guard)`, or on every route with `OAuth2Module.forRoot({ global: true })`.
 * Each step is a `protected` method, so a subclass can change one.
 *
 * @example
 * @Controller('orders')
 * @UseGuards(OAuth2Guard)
 * export class OrdersController {
 *   @Get() @RequiredScopes('orders:read')
 *   list(@OAuth2Payload('$.client_id') clientId: string) { ... }
 * }
 */
@Injectable()
export class OAuth2Guard implements CanActivate {
  private readonly logger = new Logger('OAuth2Guard');
  private readonly policies = new RouteMemo<ResolvedOAuth2Policy>();
  private readonly skipped = new RouteMemo<boolean>();
  private readonly claims = new WeakMap<IntrospectionPayload, KnownClaims>();

  constructor(
    protected readonly reflector: Reflector,
    @Inject(OAUTH2_RESOLVED_OPTIONS) protected readonly options: ResolvedOAuth2ModuleOptions,
    protected readonly resources: OAuth2ResourceRegistry,
    protected readonly caches: TokenCacheRegistry,
    protected readonly introspection: TokenIntrospectionService,
  ) {}

  /**
   * Synchronous when the token's answer is in an in-memory cache (the hot path: no promise, no
   * event-loop turn), a promise otherwise. HTTP routes, GraphQL resolvers, WebSocket gateways and
   * microservices: outside HTTP, a rejection is the transport's own error (see `OAuth2TransportError`).
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.shouldSkip(context)) {
      return true;
    }
    if (context.getType() !== 'http') {
      return this.canActivateOutsideHttp(context);
    }
    const request = this.getRequest(context);
    return this.check(context, request, requestState(request), false);
  }

  /**
   * The checks of one call, on the request the token is read from and the state of the call: the
   * token, its introspection (or cached answer), its claims and scopes.
   */
  private check(
    context: ExecutionContext,
    request: GuardedRequest,
    state: OAuth2RequestState,
    synthetic: boolean,
  ): boolean | Promise<boolean> {
    const policy = this.resolvePolicy(context);
    const resource = this.resolveResource(context, policy);
    let token = state.attributes['oauth.access_token'];
    if (token === undefined) {
      try {
        // A token the guard extracted is checked here rather than in extractToken(), so that a subclass's
        // extractToken() cannot send a malformed one to the authorization server either.
        token = this.wellFormed(this.extractToken(request, policy));
      } catch (error) {
        if (isNoCredential(error) && this.isOptional(context)) {
          return true;
        }
        throw error;
      }
      state.attributes['oauth.access_token'] = token;
    }
    const cache = this.resolveCache(context, policy);
    let payload: IntrospectionPayload | Promise<IntrospectionPayload>;
    try {
      payload = this.introspectOnce(state, resource, cache, token);
    } catch (error) {
      throw this.rejected(error, `introspection by resource '${resource.name}'`, token);
    }
    const allowed = token;
    if (payload instanceof Promise) {
      return payload.then(
        (answer) => this.allow(context, request, state, answer, resource, policy, allowed, synthetic),
        (error: unknown) => {
          throw this.rejected(error, `introspection by resource '${resource.name}'`, allowed);
        },
      );
    }
    return this.allow(context, request, state, payload, resource, policy, allowed, synthetic);
  }

  /**
   * A GraphQL resolver, a gateway's message handler or a microservice's handler: the same checks, on
   * the token its transport carries, and a rejection in the transport's own error.
   */
  private canActivateOutsideHttp(context: ExecutionContext): boolean | Promise<boolean> {
    const type = context.getType<string>();
    const call = guardedCallOf(context, this.options.transports.tokenExtractors);
    try {
      if (call === undefined) {
        this.logger.error(
          `cannot read a token in a '${type}' context: the call was rejected. Subclass OAuth2Guard and override canActivate() for this transport, or leave it out of transports.globalContextTypes.`,
        );
        throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER);
      }
      // A gateway's client is the state's carrier for the whole connection: each message starts afresh.
      const state = type === 'ws' ? freshRequestState(call.carrier) : requestState(call.carrier);
      const result = this.check(context, call.request, state, call.synthetic);
      return result instanceof Promise
        ? result.catch((error: unknown) => this.throwForTransport(error, context))
        : result;
    } catch (error) {
      return this.throwForTransport(error, context);
    }
  }

  /** A rejection outside HTTP, as the transport's own error; anything else unchanged. */
  private throwForTransport(error: unknown, context: ExecutionContext): never {
    throw error instanceof OAuth2Exception ? transportRejection(error, context, this.options) : error;
  }

  /** Whether the handler or its controller is marked `@OptionalOAuth2()`. Read only for a call without a token. */
  protected isOptional(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(OPTIONAL_METADATA, [context.getHandler(), context.getClass()]) === true
    );
  }

  /** The checks after introspection, and what an allowed request gets. */
  private allow(
    context: ExecutionContext,
    request: GuardedRequest,
    state: OAuth2RequestState,
    payload: IntrospectionPayload,
    resource: OAuth2Resource,
    policy: ResolvedOAuth2Policy,
    token: string,
    synthetic: boolean,
  ): true {
    let claims: TokenClaims;
    try {
      claims = this.checkClaims(payload, resource, policy);
    } catch (error) {
      throw this.rejected(error, "the payload's time, audience and issuer claims", token);
    }
    try {
      this.checkScopes(claims, policy);
    } catch (error) {
      throw this.rejected(error, 'the scope check', token);
    }
    this.attachAttributes(state, payload, claims, policy);
    if (!policy.propagateAuthHeader) {
      if (synthetic) {
        removeTransportCredential(context);
      } else {
        // Every credential RFC 6750 defines for a request, whichever the guard read: the query token
        // too, even where the policy does not accept it (it is a credential all the same).
        removeAuthorizationHeaders(request);
        removeQueryParam(request, ACCESS_TOKEN_PARAM);
      }
    }
    return true;
  }

  /** Logs the step that rejected a request, with a fingerprint of the token (never the token itself). */
  private rejected(error: unknown, step: string, token: string): unknown {
    if (error instanceof OAuth2Exception) {
      this.logger.debug(`rejected (${error.key}) at ${step}, token sha256:${tokenFingerprint(token)}`);
    }
    return error;
  }

  /**
   * The HTTP request of an `http` context (other transports are read by `transports.tokenExtractors`).
   * A subclass may return another request object that has the same `headers`.
   */
  protected getRequest(context: ExecutionContext): GuardedRequest {
    // What `switchToHttp().getRequest()` returns, without the three closures `switchToHttp()`
    // assigns onto the context on every call.
    const request = context.getArgByIndex<GuardedRequest | undefined>(0);
    if (!isHttpRequest(request)) {
      // An HTTP adapter other than Express's and Fastify's: refused, not a 500.
      this.logger.error("the 'http' context has no request with headers: the request was rejected");
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER);
    }
    return request;
  }

  /** Whether the handler or its controller is marked `@SkipOAuth2()`. Read once per route. */
  protected shouldSkip(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    const controller = context.getClass();
    return this.skipped.get(
      handler,
      controller,
      () => this.reflector.getAllAndOverride<boolean>(SKIP_METADATA, [handler, controller]) === true,
    );
  }

  /**
   * The route's policy: the module's default, then the controller's metadata, then the handler's
   * (handler wins). `@RequiredScopes()` sets `requiredScopes` and turns `checkRequiredScopes` on.
   * Computed once per route.
   */
  protected resolvePolicy(context: ExecutionContext): ResolvedOAuth2Policy {
    const handler = context.getHandler();
    const controller = context.getClass();
    return this.policies.get(handler, controller, () =>
      routePolicy(this.reflector, this.options.policy, controller, handler),
    );
  }

  /** The authorization server of the request; `OAUTH2_MISSING_SERVER` when none can be chosen. */
  protected resolveResource(context: ExecutionContext, policy: ResolvedOAuth2Policy): OAuth2Resource {
    const name = this.select(context, policy.oauthResource, 'oauthResource');
    const resource = name === undefined ? undefined : this.resources.find(name);
    if (!resource) {
      this.logger.debug(`rejected (${OAuth2ErrorKey.OAUTH2_MISSING_SERVER}): no resource for this route`);
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_SERVER);
    }
    return resource;
  }

  /** The cache of the request, if the policy names one. A selector that names no cache means no cache. */
  protected resolveCache(context: ExecutionContext, policy: ResolvedOAuth2Policy): TokenCache | undefined {
    if (policy.oauthCacheResource === false) {
      return undefined;
    }
    const name = this.select(context, policy.oauthCacheResource, 'oauthCacheResource');
    const cache = name === undefined ? undefined : this.caches.find(name);
    if (name !== undefined && !cache) {
      this.logger.debug(
        `oauthCacheResource chose '${name}', which is not a registered cache: the request is not cached`,
      );
    }
    return cache;
  }

  /**
   * The access token: the first `Authorization: Bearer` value, else (when the policy allows it) the
   * first `access_token` query parameter. Under the `rfc` error profile, a request with more than one
   * credential (two Bearer values, a Bearer value and a query token, two query tokens) is malformed
   * (RFC 6750 §2, §3.1 `invalid_request`); the other profiles take the first.
   */
  protected extractToken(request: GuardedRequest, policy: ResolvedOAuth2Policy): string {
    const credential = findRequestBearerCredential(request);
    if (credential.kind === 'token') {
      this.checkSingleCredential(request, policy);
      return credential.token;
    }
    if (credential.kind === 'no-header' && policy.allowAccessTokenQueryParam) {
      const fromQuery = queryParamValues(request, ACCESS_TOKEN_PARAM);
      if (fromQuery.length > 0) {
        this.checkSingleCredential(request, policy);
        return this.nonEmpty(trimOws(fromQuery[0]));
      }
    }
    const key =
      credential.kind === 'no-token'
        ? OAuth2ErrorKey.OAUTH2_MISSING_ACCESS_TOKEN
        : OAuth2ErrorKey.OAUTH2_MISSING_HEADER;
    this.logger.debug(`rejected (${key}) at token extraction`);
    throw new OAuth2Exception(key);
  }

  /**
   * The payload of the token: cached, or introspected once per request and resource (a guard bound
   * twice reuses the first answer). At once on an in-memory cache hit, else a promise.
   */
  protected introspectOnce(
    state: OAuth2RequestState,
    resource: OAuth2Resource,
    cache: TokenCache | undefined,
    token: string,
  ): IntrospectionPayload | Promise<IntrospectionPayload> {
    let introspection = state.introspection(resource.name);
    if (!introspection) {
      introspection = this.introspection.activePayload(resource, cache, token);
      state.remember(resource.name, introspection);
    }
    return introspection;
  }

  /**
   * Checks `exp` and `nbf` (on every request), and reads client, user and scopes (once per payload:
   * a cached payload is the same frozen object on every hit). Checks `aud` and `iss` against the
   * policy's `audiences` and `issuers`, once per payload and list: routes that share the module's
   * lists share one check.
   */
  protected checkClaims(
    payload: IntrospectionPayload,
    resource: OAuth2Resource,
    policy: ResolvedOAuth2Policy,
  ): TokenClaims {
    const rejection = timeClaimsRejection(payload, policy.clockToleranceSeconds);
    if (rejection) {
      throw new OAuth2Exception(rejection);
    }
    let known = this.claims.get(payload);
    if (known?.resource !== resource) {
      known = { resource, claims: readClaims(payload, resource) };
      this.claims.set(payload, known);
    }
    const { audiences, issuers } = policy;
    if (audiences !== false && known.audiences !== audiences) {
      if (!audienceMatches(payload.aud, audiences)) {
        throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
      }
      known.audiences = audiences;
    }
    if (issuers !== false && known.issuers !== issuers) {
      if (!issuerMatches(payload.iss, issuers)) {
        throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
      }
      known.issuers = issuers;
    }
    return known.claims;
  }

  /** Checks the required scopes, when the policy asks for it. */
  protected checkScopes(claims: TokenClaims, policy: ResolvedOAuth2Policy): void {
    if (!policy.checkRequiredScopes || hasRequiredScopes(claims.scopes, policy.requiredScopes, policy.modeStrict)) {
      return;
    }
    throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE, { requiredScopes: policy.requiredScopes });
  }

  /** Attaches `oauth.client_id`, `user`, `user.roles`, and `oauth.payload` when `extractPayload` is on. */
  protected attachAttributes(
    state: OAuth2RequestState,
    payload: IntrospectionPayload,
    claims: TokenClaims,
    policy: ResolvedOAuth2Policy,
  ): void {
    state.attributes['oauth.client_id'] = claims.clientId;
    state.attributes.user = claims.user;
    state.attributes['user.roles'] = claims.scopes;
    if (policy.extractPayload) {
      state.attributes['oauth.payload'] = payload;
    }
  }

  private select(
    context: ExecutionContext,
    selector: OAuth2ResourceSelector | undefined,
    field: string,
  ): string | undefined {
    if (typeof selector !== 'function') {
      return selector;
    }
    try {
      return selector(context) ?? undefined;
    } catch (error) {
      this.logger.error(`the ${field} function threw (${error instanceof Error ? error.name : typeof error})`);
      return undefined;
    }
  }

  /**
   * The `rfc` profile's one credential per request (RFC 6750 §2: a client uses one method): Bearer values,
   * and query tokens where the policy reads them. Its own method, so that extractToken() stays small on
   * the hot path of the other profiles.
   */
  private checkSingleCredential(request: GuardedRequest, policy: ResolvedOAuth2Policy): void {
    if (this.options.errorProfile !== 'rfc') {
      return;
    }
    const queryTokens = policy.allowAccessTokenQueryParam ? queryParamValues(request, ACCESS_TOKEN_PARAM).length : 0;
    if (countRequestBearerValues(request) + queryTokens > 1) {
      throw this.malformed('several credentials');
    }
  }

  /** The token, if it has RFC 6750's b64token syntax; otherwise the request is refused before any introspection. */
  private wellFormed(token: string): string {
    if (isB64Token(token)) {
      return token;
    }
    throw this.malformed('a token outside the b64token syntax', token);
  }

  /**
   * A malformed request (RFC 6750 §3.1 `invalid_request`): `OAUTH2_INVALID_ACCESS_TOKEN`, which the
   * `rfc` profile answers with 400 `invalid_request`. The log line has the token's fingerprint only.
   */
  private malformed(reason: string, token?: string): OAuth2Exception {
    const fingerprint = token === undefined ? '' : `, token sha256:${tokenFingerprint(token)}`;
    this.logger.debug(
      `rejected (${OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN}) at token extraction: ${reason}${fingerprint}`,
    );
    return new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN, { invalidRequest: true });
  }

  private nonEmpty(token: string): string {
    if (!token) {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_ACCESS_TOKEN);
    }
    return token;
  }
}

/**
 * What the guard read from a payload, and the last `audiences` and `issuers` lists it passed: a
 * cached payload is the same object on every hit, so each is worked out once.
 */
interface KnownClaims {
  readonly resource: OAuth2Resource;
  readonly claims: TokenClaims;
  audiences?: readonly string[];
  issuers?: readonly string[];
}

/** Whether a rejection says the call carries no token at all (which `@OptionalOAuth2()` lets through). */
function isNoCredential(error: unknown): boolean {
  return error instanceof OAuth2Exception && error.key === OAuth2ErrorKey.OAUTH2_MISSING_HEADER;
}

/**
 * The first 8 hex digits of the token's SHA-256: enough to tell a client's requests apart in a debug
 * log, and to find them from a token one holds (`printf %s "$TOKEN" | sha256sum | cut -c1-8`), while
 * telling nothing of the token.
 */
function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 8);
}
