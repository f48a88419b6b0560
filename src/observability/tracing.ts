// Tracing with OpenTelemetry, off unless an OTLP endpoint is configured (the standard
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, read in config.ts). Every call gets a
// server span, child of the caller's W3C `traceparent` when it sends one, on every protocol (gRPC metadata
// and Connect and REST headers are all HTTP headers). The Temporal calls that start or signal a run get a
// client span, and its context goes to the workflow in the `_tracer-data` header, the form
// @temporalio/interceptors-opentelemetry reads, so a worker running those interceptors continues the trace.
//
// The provider is Flowgate's own, never the global one: an application embedding Flowgate keeps its own
// tracing, and two apps in one process (the tests) do not share spans.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { Resource } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base";

export type { Context as TraceContext } from "@opentelemetry/api";

export interface TracingSettings {
  /** The OTLP/HTTP traces URL spans are sent to (".../v1/traces"). */
  readonly endpoint: string;
  /** service.name on every span. */
  readonly serviceName: string;
  /** Sent with every export (OTEL_EXPORTER_OTLP_HEADERS): an API key of the tracing backend, say. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** The Temporal header the Temporal SDK's OpenTelemetry interceptors carry a span context in. */
export const TEMPORAL_TRACE_HEADER = "_tracer-data";

const propagator = new W3CTraceContextPropagator();

const headerGetter = {
  keys: (carrier: Readonly<Record<string, string | string[] | undefined>>) => Object.keys(carrier),
  get: (carrier: Readonly<Record<string, string | string[] | undefined>>, key: string) => carrier[key],
};

/** Flowgate's tracer and the exporter behind it. */
export class Tracing {
  private readonly provider: BasicTracerProvider;
  readonly tracer: Tracer;
  /** What every span is sent through, and what it says it comes from: a worker's plugin takes them too. */
  readonly processor: SpanProcessor;
  readonly resource: Resource;

  constructor(settings: TracingSettings, exporter?: SpanExporter) {
    this.resource = new Resource({ "service.name": settings.serviceName });
    this.provider = new BasicTracerProvider({ resource: this.resource });
    const spans = exporter ?? new OTLPTraceExporter({ url: settings.endpoint, headers: { ...settings.headers } });
    this.processor = new BatchSpanProcessor(spans, { scheduledDelayMillis: 1000 });
    this.provider.addSpanProcessor(this.processor);
    this.tracer = this.provider.getTracer("flowgate");
  }

  /** The context of an incoming call: its caller's span when the headers carry a valid `traceparent`. */
  static extract(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
    return propagator.extract(ROOT_CONTEXT, headers, headerGetter);
  }

  /** The W3C headers (`traceparent`, `tracestate`) that carry `context` on. */
  static inject(context: Context): Record<string, string> {
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, { set: (c, key, value) => (c[key] = value) });
    return carrier;
  }

  /** A span child of `parent`, and the context that has it as the active span. */
  start(name: string, kind: SpanKind, parent: Context, attributes?: Attributes): { span: Span; context: Context } {
    const span = this.tracer.startSpan(name, { kind, attributes }, parent);
    return { span, context: trace.setSpan(parent, span) };
  }

  /** Sends what is buffered and stops. */
  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/** Ends `span` as failed with `err`'s message. */
export function endFailed(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}

export { SpanKind, SpanStatusCode };
