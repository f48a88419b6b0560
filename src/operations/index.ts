// Workflow operations: what the API does with workflows (start, run, read, stop), the domain rules every
// face of the API shares. Not to be confused with workflow code, which workers run (src/samples).
export { callBound, ServerTimeLimitError, settledBy, withTimeLimit } from "./bound.js";
export type { CallBound, TimedBound } from "./bound.js";
export { INPUT_MEMO, isOpen, PROGRESS_MEMO } from "./engine.js";
export type {
  FailureInfo,
  IdConflictPolicy,
  InputRequestInfo,
  Page,
  PendingActivityInfo,
  ReadableEvent,
  RetrySpec,
  ProgressInfo,
  RunDescription,
  RunOutcome,
  RunRef,
  RunSummary,
  StartSpec,
  WatchEvent,
  WatchEventType,
  WorkflowEngine,
  WorkflowStatusName,
} from "./engine.js";
export {
  InvalidRequestError,
  OPERATIONS_ERROR_TABLE,
  QueryFailedError,
  RequestIdConflictError,
  RunClosedError,
  RunDeadlineError,
  RunWaitInterruptedError,
  UpdateFailedError,
  WorkflowAlreadyStartedError,
} from "./errors.js";
export { WorkflowOperations } from "./operations.js";
export type { HandlerRequest, OperationsOptions, RunFilter, StartOptions, StartRequest, StopRequest } from "./operations.js";
