export { createLogger } from "./logger.js";
export { Metrics } from "./metrics.js";
export type { MetricsOptions, ProtocolLabel } from "./metrics.js";
