export { createTemporalClient, waitForTemporal } from "./connection.js";
export type { TemporalClient, TemporalTarget } from "./connection.js";
export { RequestIdConflictError, RunClosedError, RunDeadlineError, TEMPORAL_ERROR_TABLE, temporalErrorToConnect } from "./errors.js";
export { WorkflowOperations } from "./workflows.js";
export type {
  FailureInfo,
  RunDescription,
  RunOutcome,
  RunRef,
  StartInput,
  StopInput,
  WorkflowStatusName,
} from "./workflows.js";
