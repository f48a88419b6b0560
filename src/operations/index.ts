// Workflow operations: what the API does with workflows (start, run, read, stop), the domain rules every
// face of the API shares. Not to be confused with workflow code, which workers run (src/samples).
export { callBound, ServerTimeLimitError, withTimeLimit } from "./bound.js";
export type { CallBound, TimedBound } from "./bound.js";
export { isOpen } from "./engine.js";
export type {
  FailureInfo,
  RunDescription,
  RunOutcome,
  RunRef,
  RunSummary,
  StartSpec,
  WorkflowEngine,
  WorkflowStatusName,
} from "./engine.js";
export { OPERATIONS_ERROR_TABLE, RequestIdConflictError, RunClosedError, RunDeadlineError, WorkflowAlreadyStartedError } from "./errors.js";
export { WorkflowOperations } from "./operations.js";
export type { OperationsOptions, StartRequest, StopRequest } from "./operations.js";
