import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type CollectionResult } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A metric reader the test collects from when it wants (no timer, no exporter). */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One data point of a collected metric: its attributes and its value (a sum, a gauge, or a histogram's count). */
export interface Point {
  readonly attributes: Record<string, unknown>;
  readonly value: number;
}

/**
 * The real OpenTelemetry SDK, registered globally as an application's `main.ts` would before it
 * creates the Nest application: a MeterProvider with a reader collected on demand, and a
 * BasicTracerProvider exporting to memory.
 */
export class OpenTelemetrySdk {
  readonly spans = new InMemorySpanExporter();
  private readonly reader = new OnDemandReader();
  private readonly meterProvider = new MeterProvider({ readers: [this.reader] });
  private readonly tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.spans)] });

  /** Registers the meter provider (unless `metrics` is false) and the tracer provider, globally. */
  register({ withMetrics = true, withTraces = true } = {}): this {
    if (withMetrics) {
      metrics.setGlobalMeterProvider(this.meterProvider);
    }
    if (withTraces) {
      trace.setGlobalTracerProvider(this.tracerProvider);
    }
    return this;
  }

  /** Every data point of a metric, by name, from a fresh collection. */
  async points(name: string): Promise<Point[]> {
    const collected = await this.collect();
    return collected.resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name === name)
      .flatMap((metric) =>
        (metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]).map((point) => ({
          attributes: point.attributes,
          value: typeof point.value === 'number' ? point.value : (point.value as { count: number }).count,
        })),
      );
  }

  /** The sum of a metric's points whose attributes include `attributes` (0 when there is none). */
  async sum(name: string, attributes: Record<string, unknown>): Promise<number> {
    const points = await this.points(name);
    return points
      .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
      .reduce((total, point) => total + point.value, 0);
  }

  /** A collection of every metric, as an exporter would receive it. */
  async collect(): Promise<Pick<CollectionResult, 'resourceMetrics'>> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) {
      throw new Error(`metric collection failed: ${String(errors[0])}`);
    }
    return { resourceMetrics };
  }

  /**
   * Every string the SDK holds from this module: metric names, descriptions, attribute keys and
   * values, span names, attributes, events and status messages, for a scan for secrets.
   */
  async recordedText(): Promise<string> {
    const { resourceMetrics } = await this.collect();
    const metricText = JSON.stringify(
      resourceMetrics.scopeMetrics.map((scope) => ({ scope: scope.scope, metrics: scope.metrics })),
    );
    const spanText = JSON.stringify(
      this.spans.getFinishedSpans().map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
        links: span.links,
      })),
    );
    return `${metricText}\n${spanText}`;
  }

  /** Unregisters the providers and shuts them down. */
  async shutdown(): Promise<void> {
    metrics.disable();
    trace.disable();
    await this.meterProvider.shutdown();
    await this.tracerProvider.shutdown();
  }
}
