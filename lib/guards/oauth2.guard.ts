import { CanActivate, ExecutionContext, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TokenCache } from '../cache/token-cache';
import { TokenCacheRegistry } from '../cache/token-cache.registry';
import { requestHtu } from '../dpop/dpop-htu';
import { DpopProofRejection, verifyDpopProof } from '../dpop/dpop-proof';
import { DpopReplayStore, dpopReplayKey } from '../dpop/dpop-replay';
import { dpopProofOf, dpopTarget, findRequestDpopToken, requestMethod } from '../dpop/dpop-request';
import { type DpopRoute, dpopRouteOf } from '../dpop/dpop-route';
import { tokenFingerprint } from '../common/token-fingerprint';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { type OAuth2DpopChallenge, OAuth2Exception } from '../errors/oauth2.exception';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import type { OAuth2ResourceSelector, ResolvedOAuth2Policy } from '../interfaces/policy-options.interface';
import { InjectOAuth2Options } from '../decorators/inject-oauth2-options.decorator';
import { OPTIONAL_METADATA, SKIP_METADATA } from '../oauth2.constants';
import type { ResolvedOAuth2ModuleOptions } from '../options/resolved-options';
import { OAuth2Resource } from '../resources/oauth2-resource';
import { OAuth2ResourceRegistry } from '../resources/oauth2-resource.registry';
import { OAuth2Telemetry } from '../telemetry/oauth2-telemetry';
import {
  GuardedRequest,
  countRequestBearerValues,
  findRequestBearerCredential,
  firstAuthorizationValue,
  queryParamValues,
  removeAuthorizationHeaders,
  removeQueryParam,
} from '../request/http-request';
import { OAuth2RequestState, freshRequestState, requestState } from '../request/oauth2-request-state';
import { transportRejection, removeTransportCredential } from '../transports/transport-rejection';
import { guardedCallOf, isHttpRequest } from '../transports/transport-request';
import { bearerTokenOf, isB64Token, trimOws } from './bearer-token';
import { TokenClaims, readClaims, timeClaimsRejection } from './payload-claims';
import { RouteMemo } from './route-memo';
import { routePolicy } from './route-policy';
import { hasRequiredScopes, plainScopes } from './scopes';
import { audienceMatches, issuerMatches } from './token-binding';
import { certificateBindingRejection } from './certificate-binding';
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
  /** Each route's skip, policy, resource and cache, found with one look-up per call (see {@link routeOf}). */
  private readonly routes = new RouteMemo<GuardRoute>();
  /**
   * Whether this class's own steps decide a route's skip, policy, resource and cache: then
   * {@link routeOf} answers all four at once. A subclass that overrides one of them has each called.
   */
  private readonly ownRouteSteps: boolean;
  /**
   * Whether this class's own {@link introspectOnce} answers: then a token the route's memory cache
   * remembers is looked up once, while it is read ({@link credentialOf}), and its answer kept for it.
   */
  private readonly ownIntrospection: boolean;
  /**
   * Whether this class's own {@link extractToken} and {@link introspectOnce} answer: then a request
   * whose `Authorization` header is written as one this process saw is found by the header itself
   * ({@link credentialOf}). A subclass that reads its tokens another way has its extractToken() called.
   */
  private readonly hitsByHeader: boolean;
  private readonly claims = new WeakMap<IntrospectionPayload, KnownClaims>();
  /** The `jti`s of DPoP proofs seen, when the route's cache has no shared store. */
  private readonly dpopReplays = new DpopReplayStore();
  /**
   * Metrics and the audit hook. A property rather than a constructor parameter, so that a subclass's
   * constructor keeps its signature; absent for a guard built by hand.
   */
  @Optional() @Inject(OAuth2Telemetry) protected readonly telemetry?: OAuth2Telemetry;

  constructor(
    protected readonly reflector: Reflector,
    @InjectOAuth2Options() protected readonly options: ResolvedOAuth2ModuleOptions,
    protected readonly resources: OAuth2ResourceRegistry,
    protected readonly caches: TokenCacheRegistry,
    protected readonly introspection: TokenIntrospectionService,
  ) {
    const own = OAuth2Guard.prototype;
    this.ownRouteSteps =
      this.shouldSkip === own.shouldSkip &&
      this.resolvePolicy === own.resolvePolicy &&
      this.resolveResource === own.resolveResource &&
      this.resolveCache === own.resolveCache;
    this.ownIntrospection = this.introspectOnce === own.introspectOnce;
    this.hitsByHeader = this.ownIntrospection && this.extractToken === own.extractToken;
  }

  /**
   * Synchronous when the token's answer is in an in-memory cache (the hot path: no promise, no
   * event-loop turn), a promise otherwise. HTTP routes, GraphQL resolvers, WebSocket gateways and
   * microservices: outside HTTP, a rejection is the transport's own error (see `OAuth2TransportError`).
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const route = this.ownRouteSteps ? this.routeOf(context) : undefined;
    if (route === undefined ? this.shouldSkip(context) : route.skip) {
      return true;
    }
    if (context.getType() !== 'http') {
      return this.canActivateOutsideHttp(context, route);
    }
    const request = this.getRequest(context);
    const state = requestState(request);
    try {
      const result = this.check(context, request, state, false, route);
      return result instanceof Promise
        ? result.catch((error: unknown) => {
            throw this.withDpopChallenge(error, context, state);
          })
        : result;
    } catch (error) {
      throw this.withDpopChallenge(error, context, state);
    }
  }

  /**
   * One call's decision ({@link checkCall}), reported to telemetry and to the `onDecision` audit hook
   * when they ask for it (decided once, at start-up): otherwise a property read and a call.
   */
  private check(
    context: ExecutionContext,
    request: GuardedRequest,
    state: OAuth2RequestState,
    synthetic: boolean,
    route: GuardRoute | undefined,
  ): boolean | Promise<boolean> {
    const telemetry = this.telemetry;
    if (telemetry === undefined || !telemetry.observesDecisions) {
      return this.checkCall(context, request, state, synthetic, route);
    }
    // Rejections counted, or an audit hook: each decision is reported, allowed or not.
    let result: boolean | Promise<boolean>;
    try {
      result = this.checkCall(context, request, state, synthetic, route);
    } catch (error) {
      telemetry.decided(context, state, error);
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (allowed) => {
          telemetry.decided(context, state);
          return allowed;
        },
        (error: unknown) => {
          telemetry.decided(context, state, error);
          throw error;
        },
      );
    }
    telemetry.decided(context, state);
    return result;
  }

  private checkCall(
    context: ExecutionContext,
    request: GuardedRequest,
    state: OAuth2RequestState,
    synthetic: boolean,
    route: GuardRoute | undefined,
  ): boolean | Promise<boolean> {
    const policy = route?.policy ?? this.resolvePolicy(context);
    const resource = route?.resource ?? this.resolveResource(context, policy);
    // One clock reading for the cache's expiry and the token's time claims, when both happen now.
    const now = Date.now();
    let token = state.attributes['oauth.access_token'];
    if (token === undefined) {
      try {
        token = this.credentialOf(request, state, policy, route?.cache, resource, now);
      } catch (error) {
        if (isNoCredential(error) && this.isOptional(context)) {
          return true;
        }
        throw error;
      }
      state.attributes['oauth.access_token'] = token;
      if (state.dpopProof !== undefined) {
        const cache = route?.cacheFound ? route.cache : this.resolveCache(context, policy);
        const first = this.firstUseOfProof(state, policy, cache);
        if (first instanceof Promise) {
          const checked = token;
          return first.then(() =>
            this.checkToken(context, request, state, policy, resource, cache, checked, synthetic),
          );
        }
        return this.checkToken(context, request, state, policy, resource, cache, token, synthetic, now);
      }
    }
    return this.checkToken(
      context,
      request,
      state,
      policy,
      resource,
      route?.cacheFound ? route.cache : this.resolveCache(context, policy),
      token,
      synthetic,
      now,
    );
  }

  /**
   * The checks of a call's token, once read: its introspection (or cached answer), its claims and scopes.
   *
   * @param now the call's clock reading, for an answer at once (an answer that comes later reads the clock then).
   */
  private checkToken(
    context: ExecutionContext,
    request: GuardedRequest,
    state: OAuth2RequestState,
    policy: ResolvedOAuth2Policy,
    resource: OAuth2Resource,
    cache: TokenCache | undefined,
    token: string,
    synthetic: boolean,
    now?: number,
  ): boolean | Promise<boolean> {
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
    return this.allow(context, request, state, payload, resource, policy, allowed, synthetic, now);
  }

  /**
   * A GraphQL resolver, a gateway's message handler or a microservice's handler: the same checks, on
   * the token its transport carries, and a rejection in the transport's own error.
   */
  private canActivateOutsideHttp(context: ExecutionContext, route: GuardRoute | undefined): boolean | Promise<boolean> {
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
      const result = this.check(context, call.request, state, call.synthetic, route);
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
    now?: number,
  ): true {
    let claims: TokenClaims;
    try {
      claims = this.checkClaims(payload, resource, policy, now);
    } catch (error) {
      throw this.rejected(error, "the payload's time, audience and issuer claims", token);
    }
    this.checkDpopBinding(state, payload, policy, token);
    // One property read for an unbound token on a route that does not require binding.
    if (payload.cnf !== undefined || policy.requireCertificateBinding) {
      try {
        this.checkCertificateBinding(request, payload, policy);
      } catch (error) {
        throw this.rejected(error, 'the certificate binding', token);
      }
    }
    try {
      this.checkScopes(claims, policy);
    } catch (error) {
      this.telemetry?.noteClient(error, claims.clientId);
      throw this.rejected(error, 'the scope check', token);
    }
    this.attachAttributes(state, payload, claims, policy);
    if (this.introspection.isStale(payload)) {
      state.attributes['oauth.stale'] = true;
    }
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

  /**
   * The route's record: whether the guard skips it, and else its policy, and the resource and cache
   * the policy names (where it names them rather than choosing per call), worked out on the route's
   * first call. One look-up per call instead of one per step.
   */
  private routeOf(context: ExecutionContext): GuardRoute {
    const handler = context.getHandler();
    const controller = context.getClass();
    return this.routes.get(handler, controller, () => {
      if (this.reflector.getAllAndOverride<boolean>(SKIP_METADATA, [handler, controller]) === true) {
        return SKIPPED_ROUTE;
      }
      const policy = routePolicy(this.reflector, this.options.policy, controller, handler);
      const { oauthResource, oauthCacheResource } = policy;
      // A name the registry does not know is left to resolveResource() and resolveCache(), which refuse
      // or log it on each call, as they do without the record.
      const resource = typeof oauthResource === 'string' ? this.resources.find(oauthResource) : undefined;
      const cache = typeof oauthCacheResource === 'string' ? this.caches.find(oauthCacheResource) : undefined;
      return {
        skip: false,
        policy,
        resource,
        cache,
        cacheFound: oauthCacheResource === false || oauthCacheResource === undefined || cache !== undefined,
      };
    });
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
   *
   * @param now the time to check `exp` and `nbf` at, in milliseconds: the clock reading the guard
   * took for the request's cache look-up, when it got its answer at once; else the clock now.
   */
  protected checkClaims(
    payload: IntrospectionPayload,
    resource: OAuth2Resource,
    policy: ResolvedOAuth2Policy,
    now: number = Date.now(),
  ): TokenClaims {
    const rejection = timeClaimsRejection(payload, policy.clockToleranceSeconds, now / 1000);
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

  /**
   * RFC 8705 §3: a token bound to a client certificate (`cnf["x5t#S256"]`) needs that certificate on
   * the request (the TLS connection's, or the trusted proxy's `trustedClientCertificateHeader`); with
   * `requireCertificateBinding`, an unbound token is refused too. On every request, a cached payload's
   * too: the binding belongs to the request. Outside HTTP (WebSocket, microservices) there is no
   * certificate, so a bound token is refused there.
   */
  protected checkCertificateBinding(
    request: GuardedRequest,
    payload: IntrospectionPayload,
    policy: ResolvedOAuth2Policy,
  ): void {
    const reason = certificateBindingRejection(
      payload,
      request,
      policy.requireCertificateBinding,
      this.options.trustedClientCertificateHeader,
    );
    if (reason !== undefined) {
      this.logger.debug(`certificate binding not proven: ${reason}`);
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
    }
  }

  /** Checks the required scopes, when the policy asks for it. */
  protected checkScopes(claims: TokenClaims, policy: ResolvedOAuth2Policy): void {
    if (
      !policy.checkRequiredScopes ||
      hasRequiredScopes(
        plainScopes(claims, claims.scopes),
        plainScopes(policy, policy.requiredScopes),
        policy.modeStrict,
      )
    ) {
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
   * The call's token: a Bearer one (through {@link extractToken}), else, where the route accepts DPoP,
   * one of the DPoP scheme whose proof holds (RFC 9449 §7.1). A token the guard extracted is checked
   * here rather than in extractToken(), so that a subclass's extractToken() cannot send a malformed
   * one to the authorization server either.
   *
   * @param remembering the route's cache, when the route record names it. A Bearer token it remembers
   * at the resource, with a fresh answer of an active token, is looked up here, once: its answer is
   * kept on the state for {@link introspectOnce}, and it skips the syntax check, which it passed when
   * it was remembered (the cache keeps no other). Before that, the cache is asked for the request's
   * first `Authorization` header as written: a token it found by the token is then remembered by its
   * header ({@link TokenCache.rememberWriting}), and the next request written the same way is found
   * without the token being cut out of its header and hashed as a sliced string (V8's slow paths,
   * the largest item of the hit path on Express).
   * @param now the call's clock reading, for that look-up.
   */
  private credentialOf(
    request: GuardedRequest,
    state: OAuth2RequestState,
    policy: ResolvedOAuth2Policy,
    remembering: TokenCache | undefined,
    resource: OAuth2Resource,
    now: number,
  ): string {
    // A Bearer header where DPoP is required is refused below, found or not.
    const byHeader = remembering !== undefined && this.hitsByHeader && policy.dpop !== 'required';
    const header = byHeader ? firstAuthorizationValue(request) : undefined;
    if (header !== undefined) {
      // The rfc profile's check first, as extractToken() makes it: a refused request is no cache hit.
      this.checkSingleCredential(request, policy);
      const payload = this.introspection.rememberedPayload(resource, remembering!, header, now);
      // A header is remembered only as a Bearer value of its token (rememberWriting() checks it).
      const token = payload === undefined ? undefined : bearerTokenOf(header);
      if (token) {
        state.remember(resource.name, payload!);
        return token;
      }
    }
    let bearer: string;
    try {
      bearer = this.extractToken(request, policy);
    } catch (error) {
      const token = isNoCredential(error) && policy.dpop !== 'off' ? findRequestDpopToken(request) : undefined;
      if (token === undefined) {
        throw error;
      }
      return this.dpopCredential(request, state, policy, token);
    }
    if (policy.dpop === 'required') {
      this.logger.debug(
        `rejected (${OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN}): a Bearer token where DPoP is required`,
      );
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
    }
    if (remembering !== undefined && this.ownIntrospection) {
      const payload = this.introspection.rememberedPayload(resource, remembering, bearer, now);
      if (payload !== undefined) {
        if (header !== undefined) {
          remembering.rememberWriting(resource.name, bearer, header);
        }
        state.remember(resource.name, payload);
        return bearer;
      }
    }
    return this.wellFormed(bearer);
  }

  /** The token of `Authorization: DPoP`, once its `DPoP` proof passed RFC 9449 §4.3's checks (but the key binding, after introspection). */
  private dpopCredential(
    request: GuardedRequest,
    state: OAuth2RequestState,
    policy: ResolvedOAuth2Policy,
    token: string,
  ): string {
    this.wellFormed(this.nonEmpty(token));
    const route = dpopRouteOf(policy);
    const proof = dpopProofOf(request);
    const method = requestMethod(request);
    const htu = requestHtu(dpopTarget(request), this.options.publicUrl);
    let verified: ReturnType<typeof verifyDpopProof>;
    if (proof === undefined || proof === null) {
      verified = new DpopProofRejection(
        'invalid_dpop_proof',
        proof === null ? 'several DPoP headers' : 'no DPoP header',
      );
    } else if (method === undefined || htu === undefined) {
      verified = new DpopProofRejection('invalid_dpop_proof', "the request's method or URL cannot be read");
    } else {
      verified = verifyDpopProof(proof, {
        method,
        htu,
        token,
        algorithms: route.algorithms,
        now: Date.now() / 1000,
        maxAgeSeconds: route.maxAgeSeconds,
        toleranceSeconds: route.toleranceSeconds,
        nonces: route.nonces,
      });
    }
    if (verified instanceof DpopProofRejection) {
      throw this.dpopRejected(route, verified.error, verified.reason, token);
    }
    state.dpopProof = verified;
    return token;
  }

  /**
   * Records the proof's `jti` (RFC 9449 §11.1): a second use within its `iat` window is a replay. In the
   * route's cache when its store is shared (Redis), so that a replay at another instance is caught:
   * then a promise; at once otherwise.
   */
  private firstUseOfProof(
    state: OAuth2RequestState,
    policy: ResolvedOAuth2Policy,
    cache: TokenCache | undefined,
  ): void | Promise<void> {
    const proof = state.dpopProof as NonNullable<OAuth2RequestState['dpopProof']>;
    const route = dpopRouteOf(policy);
    // Remembered while the proof's iat keeps it acceptable, and a second more.
    const ttl = Math.max(1000, Math.ceil((proof.iat + route.maxAgeSeconds) * 1000 - Date.now()) + 1000);
    const token = state.attributes['oauth.access_token'] ?? '';
    const first = this.dpopReplays.firstUse(dpopReplayKey(proof.jkt, proof.jti), ttl, cache);
    const verdict = (fresh: boolean): void => {
      if (!fresh) {
        throw this.dpopRejected(route, 'invalid_dpop_proof', 'a replayed proof (its jti was seen)', token);
      }
    };
    return first instanceof Promise ? first.then(verdict) : verdict(first);
  }

  /**
   * The binding of the token to the proof's key (RFC 9449 §4.3 check 12, §7.2): a token whose answer
   * has `cnf.jkt` must come with the DPoP scheme and a proof of that key; one sent as Bearer is refused
   * in every mode (it is a stolen token as often as not). Costs one property read for a Bearer request.
   */
  private checkDpopBinding(
    state: OAuth2RequestState,
    payload: IntrospectionPayload,
    policy: ResolvedOAuth2Policy,
    token: string,
  ): void {
    const cnf = payload.cnf;
    const proof = state.dpopProof;
    if (proof === undefined && cnf === undefined) {
      return;
    }
    const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as { jkt?: unknown }).jkt : undefined;
    if (proof === undefined) {
      if (jkt !== undefined) {
        this.logger.debug(
          `rejected (${OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN}): a DPoP-bound token sent as Bearer, token sha256:${tokenFingerprint(token)}`,
        );
        const route = dpopRouteOf(policy);
        // The DPoP challenge tells the client which scheme its token needs, where the route takes it.
        throw new OAuth2Exception(
          OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN,
          route.mode === 'off' ? {} : { dpop: this.dpopChallenge(route, false) },
        );
      }
      return;
    }
    if (jkt !== proof.jkt) {
      throw this.dpopRejected(
        dpopRouteOf(policy),
        'invalid_dpop_proof',
        jkt === undefined
          ? 'the token is not bound to a key (no cnf.jkt)'
          : "the proof's key is not the token's (cnf.jkt)",
        token,
      );
    }
  }

  /** A refused proof: `OAUTH2_INVALID_ACCESS_TOKEN` with the DPoP challenge's error (and a fresh nonce for `use_dpop_nonce`). */
  private dpopRejected(
    route: DpopRoute,
    error: 'invalid_dpop_proof' | 'use_dpop_nonce',
    reason: string,
    token: string,
  ): OAuth2Exception {
    this.logger.debug(
      `rejected (${OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN}) at the DPoP proof: ${reason}, token sha256:${tokenFingerprint(token)}`,
    );
    const nonce = error === 'use_dpop_nonce' ? route.nonces?.current() : undefined;
    return new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN, {
      dpop: { ...this.dpopChallenge(route, true), error, ...(nonce !== undefined && { nonce }) },
    });
  }

  /**
   * An HTTP rejection with the route's DPoP challenge (RFC 9449 §7.1), `DPoP algs="..."`: on every
   * rejection where DPoP is required (alone), and where it is allowed, for a request that came with a
   * valid proof (beside the Bearer one). A request that never spoke DPoP to a route that merely allows
   * it (the default) gets the Bearer challenge it got before DPoP existed here. Anything else unchanged.
   */
  private withDpopChallenge(error: unknown, context: ExecutionContext, state: OAuth2RequestState): unknown {
    if (!(error instanceof OAuth2Exception) || error.details.dpop !== undefined) {
      return error;
    }
    let route: DpopRoute;
    try {
      route = dpopRouteOf(this.resolvePolicy(context));
    } catch {
      return error;
    }
    if (route.mode === 'off' || (route.mode === 'allowed' && state.dpopProof === undefined)) {
      return error;
    }
    return new OAuth2Exception(error.key, {
      ...error.details,
      dpop: this.dpopChallenge(route, state.dpopProof !== undefined),
    });
  }

  private dpopChallenge(route: DpopRoute, usedDpop: boolean): OAuth2DpopChallenge {
    return { algs: route.algs, bearer: route.mode !== 'required', usedDpop };
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

/** What the guard works out once per route (see `routeOf`). */
interface GuardRoute {
  /** `@SkipOAuth2()`: the guard lets every call through; nothing else is worked out. */
  readonly skip: boolean;
  readonly policy?: ResolvedOAuth2Policy;
  /** The resource the policy names, when it names a registered one; else found on each call. */
  readonly resource?: OAuth2Resource;
  /** The cache the policy names (none without `oauthCacheResource`, or with `false`), when {@link cacheFound}. */
  readonly cache?: TokenCache;
  /** Whether {@link cache} is the route's cache: else (a selector function, or an unknown name) found on each call. */
  readonly cacheFound: boolean;
}

const SKIPPED_ROUTE: GuardRoute = Object.freeze({ skip: true, cacheFound: false });

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
