// The only code that imports @temporalio/client: the connection, the WorkflowEngine on it, its error table.
export { checkTemporal, createTemporalClient, waitForTemporal } from "./connection.js";
export type { TemporalCheck, TemporalClient, TemporalTarget } from "./connection.js";
export { TemporalEngine } from "./engine.js";
export { installRuntime } from "./native.js";
export { isRunNotFound, TEMPORAL_ERROR_TABLE } from "./errors.js";
