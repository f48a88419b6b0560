// A worker's tracing, on when an OTLP endpoint is configured (as the API's): the Temporal SDK's
// OpenTelemetry plugin (@temporalio/interceptors-opentelemetry) continues the trace a start or signal
// carried in `_tracer-data` with a span for the workflow run and one for each activity, and sends them, with
// the workflow's own spans (exported from its sandbox through a sink), to the same collector.
import { context, propagation } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OpenTelemetryPlugin } from "@temporalio/interceptors-opentelemetry";
import { Tracing, type TracingSettings } from "../observability/index.js";

let globalsSet = false;

/** The plugin a traced worker is created with, and what flushes its spans when it stops. */
export function workerTracing(settings: TracingSettings): { plugin: OpenTelemetryPlugin; shutdown: () => Promise<void> } {
  if (!globalsSet) {
    // The activity interceptor reads the workflow's span context with the global propagator and makes its span
    // the active one with the global context manager; without them an activity's span would begin a trace of
    // its own. Set once per process: the worker's process is Flowgate's.
    globalsSet = true;
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }
  const tracing = new Tracing(settings);
  return {
    plugin: new OpenTelemetryPlugin({ resource: tracing.resource, spanProcessor: tracing.processor, tracer: tracing.tracer }),
    shutdown: () => tracing.shutdown(),
  };
}
