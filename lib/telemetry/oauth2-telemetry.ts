import {
  type ExecutionContext,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type {
  Attributes,
  Counter,
  Histogram,
  Meter,
  ObservableCallback,
  ObservableGauge,
  Span,
  Tracer,
} from '@opentelemetry/api';
import { TokenCacheRegistry } from '../cache/token-cache.registry';
import { OptionalPackageLoader } from '../common/optional-package.loader';
import { tokenFingerprint } from '../common/token-fingerprint';
import { InjectOAuth2Options } from '../decorators/inject-oauth2-options.decorator';
import { OAUTH2_ERROR_KEYS, OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { OAuth2Exception } from '../errors/oauth2.exception';
import type { OAuth2Decision, OAuth2DecisionHook } from '../interfaces/decision.interface';
import type { IntrospectionResult } from '../interfaces/introspection.interface';
import type { ResolvedOAuth2ModuleOptions } from '../options/resolved-options';
import type { OAuth2RequestState } from '../request/oauth2-request-state';
import { OAuth2ResourceRegistry } from '../resources/oauth2-resource.registry';
import { BREAKER_STATE_VALUES, type IntrospectionOutcome, TELEMETRY_NAMES, TELEMETRY_SCOPE } from './telemetry-names';

type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** The attributes of each outcome of one resource's introspections, built once. */
type OutcomeAttributes = Readonly<Record<IntrospectionOutcome, Attributes>>;

const OUTCOMES: readonly IntrospectionOutcome[] = [
  'active',
  'inactive',
  'server_unavailable',
  'invalid_server_response',
  'error',
];

/**
 * What the guard tells the people who run it: OpenTelemetry metrics and traces (through
 * `@opentelemetry/api`, an optional peer), and the `onDecision` audit hook.
 *
 * Decided once, when the application starts: without `@opentelemetry/api`, nothing is recorded and
 * nothing costs; with it, the `oauth2.introspect` span goes through the API's tracer (a no-op until an
 * SDK registers a tracer provider, even later); the metrics are on only when a meter provider is
 * registered by then (the API has no proxy for meters: instruments made before would stay no-ops),
 * so an application without an SDK pays nothing on its cache hits. Attributes are built once per
 * resource, cache, outcome and key; none holds a token, a secret or a payload value.
 */
@Injectable()
export class OAuth2Telemetry implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OAuth2Telemetry');
  private api?: OpenTelemetryApi;
  private tracer?: Tracer;
  private introspections?: Counter;
  private duration?: Histogram;
  private rejections?: Counter;
  /** The breaker-state gauge and its callback, removed when the application shuts down. */
  private breakerGauge?: { gauge: ObservableGauge; callback: ObservableCallback };
  private readonly outcomeAttributes = new Map<string, OutcomeAttributes>();
  private readonly resourceAttributes = new Map<string, Attributes>();
  private readonly rejectionAttributes = new Map<string, Attributes>();
  private readonly hook?: OAuth2DecisionHook;
  private hookFailed = false;
  /** Rejections for missing scopes, and the client of the token they refused (see {@link noteClient}). */
  private readonly refusedClients = new WeakMap<object, string>();
  private observing = false;

  constructor(
    @InjectOAuth2Options() options: ResolvedOAuth2ModuleOptions,
    private readonly packages: OptionalPackageLoader,
    private readonly resources: OAuth2ResourceRegistry,
    private readonly caches: TokenCacheRegistry,
  ) {
    this.hook = options.onDecision;
  }

  /** Whether the guard should report its decisions ({@link decided}): rejections are counted, or an audit hook is set. */
  get observesDecisions(): boolean {
    return this.observing;
  }

  /** Whether introspections go through {@link introspect} (the OpenTelemetry API is installed). */
  get tracesIntrospections(): boolean {
    return this.tracer !== undefined;
  }

  async onModuleInit(): Promise<void> {
    this.api = await this.packages.loadIfInstalled('@opentelemetry/api', () => import('@opentelemetry/api'));
  }

  /** After every cache and resource exists: the tracer, and the instruments if a meter provider is registered. */
  onApplicationBootstrap(): void {
    const api = this.api;
    if (api !== undefined) {
      this.tracer = api.trace.getTracer(TELEMETRY_SCOPE);
      const meter = api.metrics.getMeter(TELEMETRY_SCOPE);
      if (meter instanceof api.createNoopMeter().constructor) {
        this.logger.debug(
          'no OpenTelemetry meter provider is registered: metrics are off (register the SDK before the application starts)',
        );
      } else {
        this.createInstruments(meter);
      }
    }
    this.observing = this.rejections !== undefined || this.hook !== undefined;
  }

  /** Stops observing the resources' breakers: the meter provider may outlive the application. */
  onApplicationShutdown(): void {
    if (this.breakerGauge !== undefined) {
      this.breakerGauge.gauge.removeCallback(this.breakerGauge.callback);
      this.breakerGauge = undefined;
    }
  }

  /**
   * Runs one introspection at a resource inside the `oauth2.introspect` span (the active span while it
   * runs, so that the HTTP client's own spans nest under it), and counts and times it.
   */
  introspect(resource: string, run: () => Promise<IntrospectionResult>): Promise<IntrospectionResult> {
    const tracer = this.tracer as Tracer;
    const started = performance.now();
    return tracer.startActiveSpan(
      TELEMETRY_NAMES.introspectSpan,
      { attributes: { 'oauth2.resource': resource } },
      async (span: Span) => {
        let outcome: IntrospectionOutcome = 'error';
        try {
          const result = await run();
          outcome = result.active ? 'active' : 'inactive';
          return result;
        } catch (error) {
          outcome = outcomeOf(error);
          // The outcome only: an error's message is the module's business, and its stack a detail.
          span.setStatus({ code: (this.api as OpenTelemetryApi).SpanStatusCode.ERROR, message: outcome });
          throw error;
        } finally {
          span.setAttribute('oauth2.outcome', outcome);
          span.end();
          if (this.introspections !== undefined) {
            this.introspections.add(1, this.outcomesOf(resource)[outcome]);
            (this.duration as Histogram).record((performance.now() - started) / 1000, this.attributesOf(resource));
          }
        }
      },
    );
  }

  /** Remembers the client of a token refused for missing scopes, for the decision's `clientId`. */
  noteClient(rejection: unknown, clientId: string | undefined): void {
    if (clientId !== undefined && typeof rejection === 'object' && rejection !== null) {
      this.refusedClients.set(rejection, clientId);
    }
  }

  /**
   * One decision of the guard: counts a rejection by key, and calls the audit hook. Never throws.
   *
   * @param error the rejection, or `undefined` for an allowed call.
   */
  decided(context: ExecutionContext, state: OAuth2RequestState, error?: unknown): void {
    const key = error instanceof OAuth2Exception ? error.key : undefined;
    if (error !== undefined && key !== undefined && this.rejections !== undefined) {
      this.rejections.add(1, this.rejectionAttributes.get(key));
    }
    const hook = this.hook;
    if (hook === undefined) {
      return;
    }
    const token = state.attributes['oauth.access_token'];
    const clientId =
      error === undefined ? state.attributes['oauth.client_id'] : this.refusedClients.get(error as object);
    const resource = state.resourceName;
    const decision: OAuth2Decision = {
      allowed: error === undefined,
      ...(key !== undefined && { key }),
      ...(resource !== undefined && { resource }),
      ...(clientId !== undefined && { clientId }),
      ...(token !== undefined && { tokenFingerprint: tokenFingerprint(token) }),
      context,
    };
    try {
      const returned: unknown = hook(decision);
      if (returned instanceof Promise) {
        returned.catch((failure: unknown) => this.hookFailure(failure));
      }
    } catch (failure) {
      this.hookFailure(failure);
    }
  }

  private createInstruments(meter: Meter): void {
    this.introspections = meter.createCounter(TELEMETRY_NAMES.introspections, {
      description: 'Introspections at the authorization server, by resource and outcome',
      unit: '{introspection}',
    });
    this.duration = meter.createHistogram(TELEMETRY_NAMES.introspectionDuration, {
      description: 'Duration of an introspection at the authorization server, by resource',
      unit: 's',
    });
    this.rejections = meter.createCounter(TELEMETRY_NAMES.rejections, {
      description: 'Requests the guard rejected, by error key',
      unit: '{request}',
    });
    for (const key of OAUTH2_ERROR_KEYS) {
      this.rejectionAttributes.set(key, Object.freeze({ key }));
    }
    const lookups = meter.createCounter(TELEMETRY_NAMES.cacheLookups, {
      description: 'Cache look-ups, by cache and result (hit, miss, error, stale)',
      unit: '{lookup}',
    });
    for (const name of this.caches.names()) {
      const attributes = (result: string) => Object.freeze({ cache: name, result });
      this.caches.get(name).countLookups({
        counter: lookups,
        hit: attributes('hit'),
        miss: attributes('miss'),
        error: attributes('error'),
        stale: attributes('stale'),
      });
    }
    const gauge = meter.createObservableGauge(TELEMETRY_NAMES.breakerState, {
      description: "State of each resource's circuit breaker: 0 closed, 1 half-open, 2 open",
      unit: '{state}',
    });
    const callback: ObservableCallback = (result) => {
      for (const name of this.resources.names()) {
        const state = this.resources.find(name)?.circuitState;
        if (state !== undefined && state !== 'none') {
          result.observe(BREAKER_STATE_VALUES[state], this.attributesOf(name));
        }
      }
    };
    gauge.addCallback(callback);
    this.breakerGauge = { gauge, callback };
  }

  private attributesOf(resource: string): Attributes {
    let attributes = this.resourceAttributes.get(resource);
    if (attributes === undefined) {
      attributes = Object.freeze({ resource });
      this.resourceAttributes.set(resource, attributes);
    }
    return attributes;
  }

  private outcomesOf(resource: string): OutcomeAttributes {
    let attributes = this.outcomeAttributes.get(resource);
    if (attributes === undefined) {
      const built: Partial<Record<IntrospectionOutcome, Attributes>> = {};
      for (const outcome of OUTCOMES) {
        built[outcome] = Object.freeze({ resource, outcome });
      }
      attributes = Object.freeze(built as Record<IntrospectionOutcome, Attributes>);
      this.outcomeAttributes.set(resource, attributes);
    }
    return attributes;
  }

  /** A hook that throws or rejects: logged once, by the failure's class name only (it might quote anything). */
  private hookFailure(failure: unknown): void {
    if (this.hookFailed) {
      return;
    }
    this.hookFailed = true;
    const name = failure instanceof Error ? failure.name : typeof failure;
    this.logger.error(
      `the onDecision hook failed (${name}); decisions go on regardless, and later failures are not logged`,
    );
  }
}

function outcomeOf(error: unknown): IntrospectionOutcome {
  if (error instanceof OAuth2Exception) {
    if (error.key === OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE) {
      return 'server_unavailable';
    }
    if (error.key === OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE) {
      return 'invalid_server_response';
    }
  }
  return 'error';
}
