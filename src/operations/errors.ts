// Flowgate's own workflow rules that refuse a call, and their Connect codes: the error table of the workflow
// operations (a test per row).
import { Code } from "@connectrpc/connect";
import type { ErrorTable } from "../errors/index.js";

/** A start whose workflow id holds a run the id policy does not let it replace. Thrown by the engine. */
export class WorkflowAlreadyStartedError extends Error {
  override name = "WorkflowAlreadyStartedError";
  constructor(
    readonly workflowId: string,
    cause?: unknown,
  ) {
    super(`workflow "${workflowId}" is already running`, { cause });
  }
}

/** StopWorkflow on a run that already closed (Temporal itself would accept a repeated cancel silently). */
export class RunClosedError extends Error {
  override name = "RunClosedError";
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly status: string,
  ) {
    super(`workflow "${workflowId}" run "${runId}" is already closed (${status})`);
  }
}

/** A start whose workflow id holds a run started for another request_id. */
export class RequestIdConflictError extends Error {
  override name = "RequestIdConflictError";
  constructor(
    readonly workflowId: string,
    cause: unknown,
  ) {
    super(`workflow "${workflowId}" already exists and was started for a different request_id`, { cause });
  }
}

/** RunWorkflow out of time: the workflow keeps running (when it started), and the message says where. */
export class RunDeadlineError extends Error {
  override name = "RunDeadlineError";
  constructor(run: { workflowId: string; runId: string } | undefined, cause: unknown) {
    super(
      run === undefined
        ? "the workflow could not be started before the deadline"
        : `workflow "${run.workflowId}" run "${run.runId}" was still running at the deadline; it keeps running: ` +
            "get its outcome with GetWorkflowResult",
      { cause },
    );
  }
}

/**
 * A call waiting on a run (RunWorkflow, GetWorkflowResult's wait) was ended from outside it: by the server's
 * shutdown, which maps it to Unavailable naming the run to read later. A client that went away, or its own
 * deadline, keep their own codes (the error mapper prefers the abort's reason when the codes differ).
 */
export class RunWaitInterruptedError extends Error {
  override name = "RunWaitInterruptedError";
  constructor(run: { workflowId: string; runId: string }, cause: unknown) {
    super(
      `the server is shutting down; workflow "${run.workflowId}" run "${run.runId}" keeps running: ` +
        "get its outcome with GetWorkflowResult, from any replica",
      { cause },
    );
  }
}

/** A request field the operations refuse (a reserved memo key, a page token that is not one); the message names it. */
export class InvalidRequestError extends Error {
  override name = "InvalidRequestError";
}

/** An update the workflow refused (its validator) or whose handler failed; the message is the workflow's. */
export class UpdateFailedError extends Error {
  override name = "UpdateFailedError";
  constructor(
    readonly update: string,
    reason: string,
    cause?: unknown,
  ) {
    super(`update "${update}" was rejected or failed: ${reason}`, { cause });
  }
}

/** A query the workflow could not answer: its handler failed, or the worker does not know it. */
export class QueryFailedError extends Error {
  override name = "QueryFailedError";
  constructor(
    readonly query: string,
    reason: string,
    cause?: unknown,
  ) {
    super(`query "${query}" failed: ${reason}`, { cause });
  }
}

const message = (e: unknown) => (e as Error).message;

export const OPERATIONS_ERROR_TABLE: ErrorTable = [
  { name: "WorkflowAlreadyStartedError", match: (e) => e instanceof WorkflowAlreadyStartedError, code: Code.AlreadyExists, message },
  { name: "RunClosedError", match: (e) => e instanceof RunClosedError, code: Code.FailedPrecondition, message },
  { name: "RequestIdConflictError", match: (e) => e instanceof RequestIdConflictError, code: Code.AlreadyExists, message },
  { name: "RunDeadlineError", match: (e) => e instanceof RunDeadlineError, code: Code.DeadlineExceeded, message },
  { name: "RunWaitInterruptedError", match: (e) => e instanceof RunWaitInterruptedError, code: Code.Unavailable, message },
  { name: "InvalidRequestError", match: (e) => e instanceof InvalidRequestError, code: Code.InvalidArgument, message },
  { name: "UpdateFailedError", match: (e) => e instanceof UpdateFailedError, code: Code.FailedPrecondition, message },
  { name: "QueryFailedError", match: (e) => e instanceof QueryFailedError, code: Code.FailedPrecondition, message },
];
