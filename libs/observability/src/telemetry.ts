import type { Context, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { AlwaysOffSampler, BatchSpanProcessor, NoopSpanProcessor, ParentBasedSampler } from '@opentelemetry/sdk-trace';
import { collectingAs } from './metrics';

export interface TelemetryOptions {
  service: string;
  /**
   * OTLP/HTTP collector: spans and metrics are pushed to it. Without it spans are not exported
   * (context still propagates) and metrics are only pulled by Prometheus.
   */
  otlpEndpoint?: string;
  /** How often metrics are pushed over OTLP (default 15 s). */
  metricExportIntervalMs?: number;
  /** Extra span processors, e.g. an in-memory exporter in tests. */
  spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  /** Serves Prometheus' text format; mount it at /metrics. */
  prometheus: PrometheusExporter;
  shutdown(): Promise<void>;
}

/** Prometheus' reader, collecting under its name (collectingReader). */
class ScrapedMetrics extends PrometheusExporter {
  override collect(options?: Parameters<PrometheusExporter['collect']>[0]): ReturnType<PrometheusExporter['collect']> {
    return collectingAs('prometheus', () => super.collect(options));
  }
}

/** The OTLP push reader, collecting under its name (collectingReader). */
class PushedMetrics extends PeriodicExportingMetricReader {
  override collect(options?: Parameters<PeriodicExportingMetricReader['collect']>[0]): ReturnType<PeriodicExportingMetricReader['collect']> {
    return collectingAs('otlp', () => super.collect(options));
  }
}

/**
 * Starts the OpenTelemetry SDK: traces (OTLP when configured), metrics pulled by Prometheus,
 * W3C trace-context propagation. Call it first in main.ts, before other imports do work.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const prometheus = new ScrapedMetrics({ preventServerStart: true });
  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  const metricReaders: IMetricReader[] = [prometheus];
  if (options.otlpEndpoint) {
    const endpoint = options.otlpEndpoint.replace(/\/$/, '');
    spanProcessors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }) }));
    metricReaders.push(
      new PushedMetrics({
        exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
        exportIntervalMillis: options.metricExportIntervalMs ?? 15_000,
      }),
    );
  }
  // Without any processor the SDK registers no tracer provider at all, and trace context would
  // stop at this process: keep one, so W3C context still flows through Kafka headers. Nothing is
  // exported then, so a trace this process starts is not recorded: its spans are non-recording
  // (their trace and span ids still propagate, and logs still carry them), which spares every
  // request and message the cost of building a span nobody reads. A caller's sampled trace stays
  // sampled (parent-based), so a traced caller's downstream services still record it. With an
  // exporter, OTEL_TRACES_SAMPLER decides (the SDK's default: every trace; docs/configuration.md).
  const exported = spanProcessors.length > 0;
  if (!exported) spanProcessors.push(new NoopSpanProcessor());
  const sdk = new NodeSDK({
    serviceName: options.service,
    spanProcessors,
    metricReaders,
    ...(exported ? {} : { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) }),
  });
  sdk.start();
  return rememberTelemetry({ prometheus, shutdown: () => sdk.shutdown() });
}

export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

const headerSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const headerGetter: TextMapGetter<KafkaHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.toString();
  },
};

/** The W3C `traceparent` / `tracestate` of the active span, as Kafka headers. */
export function traceHeaders(active: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier, headerSetter);
  return carrier;
}

/** The context carried by a Kafka message's headers, to continue its trace. */
export function contextFromHeaders(headers: KafkaHeaders | undefined): Context {
  return propagation.extract(context.active(), headers ?? {}, headerGetter);
}

export const tracer = (name: string) => trace.getTracer(name);

let started: Telemetry | undefined;

/** The telemetry started by this process, if any (main.ts starts it before anything else). */
export function currentTelemetry(): Telemetry | undefined {
  return started;
}

export function rememberTelemetry(telemetry: Telemetry): Telemetry {
  started = telemetry;
  return telemetry;
}
