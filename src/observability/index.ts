export { createLogger } from "./logger.js";
export { Metrics } from "./metrics.js";
export type { MetricsOptions, ProtocolLabel } from "./metrics.js";
export { endFailed, SpanKind, SpanStatusCode, TEMPORAL_TRACE_HEADER, Tracing } from "./tracing.js";
export type { TraceContext, TracingSettings } from "./tracing.js";
