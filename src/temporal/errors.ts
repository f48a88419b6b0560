// The one table that turns Temporal failures into Connect errors. Each row has a test (test/unit).
import { Code, ConnectError } from "@connectrpc/connect";
import {
  WorkflowContinuedAsNewError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from "@temporalio/client";

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

/** One row: which Temporal failure, which Connect code, and the message the client reads. */
interface ErrorRow {
  readonly name: string;
  readonly match: (err: unknown) => boolean;
  readonly code: Code | ((err: unknown) => Code);
  readonly message: (err: unknown) => string;
}

/** gRPC status codes share their numbers with Connect codes; these are the ones Temporal sends. */
function grpcCodeOf(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "number" && code >= 1 && code <= 16) return code;
  }
  return undefined;
}

function grpcDetailsOf(err: unknown): string {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const details = (e as { details?: unknown }).details;
    if (typeof details === "string" && details !== "") return details;
  }
  return err instanceof Error ? err.message : String(err);
}

const CLIENT_FACING_CODES: ReadonlySet<Code> = new Set([
  Code.Canceled,
  Code.InvalidArgument,
  Code.DeadlineExceeded,
  Code.NotFound,
  Code.AlreadyExists,
  Code.ResourceExhausted,
  Code.FailedPrecondition,
  Code.Aborted,
  Code.OutOfRange,
  Code.Unimplemented,
  Code.Unavailable,
]);

/** Node's socket errors when Temporal's address cannot be reached at all. */
const NETWORK_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENOTFOUND", "ETIMEDOUT", "EPIPE"]);

export const TEMPORAL_ERROR_TABLE: readonly ErrorRow[] = [
  {
    name: "WorkflowNotFoundError",
    match: (e) => e instanceof WorkflowNotFoundError,
    code: Code.NotFound,
    message: (e) => {
      const err = e as WorkflowNotFoundError;
      return err.runId
        ? `workflow "${err.workflowId}" run "${err.runId}" not found`
        : `workflow "${err.workflowId}" not found`;
    },
  },
  {
    name: "WorkflowExecutionAlreadyStartedError",
    match: (e) => e instanceof WorkflowExecutionAlreadyStartedError,
    code: Code.AlreadyExists,
    message: (e) => `workflow "${(e as WorkflowExecutionAlreadyStartedError).workflowId}" is already running`,
  },
  {
    name: "WorkflowFailedError",
    match: (e) => e instanceof WorkflowFailedError,
    code: Code.FailedPrecondition,
    message: (e) => `workflow failed: ${(e as WorkflowFailedError).cause?.message ?? (e as Error).message}`,
  },
  {
    name: "WorkflowContinuedAsNewError",
    match: (e) => e instanceof WorkflowContinuedAsNewError,
    code: Code.FailedPrecondition,
    message: (e) =>
      `workflow run continued as new run "${(e as WorkflowContinuedAsNewError).newExecutionRunId}"`,
  },
  {
    name: "RunClosedError",
    match: (e) => e instanceof RunClosedError,
    code: Code.FailedPrecondition,
    message: (e) => (e as Error).message,
  },
  {
    name: "RequestIdConflictError",
    match: (e) => e instanceof RequestIdConflictError,
    code: Code.AlreadyExists,
    message: (e) => (e as Error).message,
  },
  {
    name: "RunDeadlineError",
    match: (e) => e instanceof RunDeadlineError,
    code: Code.DeadlineExceeded,
    message: (e) => (e as Error).message,
  },
  {
    // Codes that describe the client's request or Temporal's availability pass through as they are.
    name: "gRPC status from Temporal about the request",
    match: (e) => CLIENT_FACING_CODES.has(grpcCodeOf(e) as Code),
    code: (e) => grpcCodeOf(e) as Code,
    message: (e) => `temporal: ${grpcDetailsOf(e)}`,
  },
  {
    // Temporal refusing the gateway's own credentials is the gateway's problem, not the client's.
    name: "gRPC auth failure from Temporal",
    match: (e) => grpcCodeOf(e) === Code.Unauthenticated || grpcCodeOf(e) === Code.PermissionDenied,
    code: Code.Internal,
    message: () => "temporal refused the gateway's credentials",
  },
  {
    // Temporal's own failures: reported without their details, which stay in the log.
    name: "gRPC server failure from Temporal",
    match: (e) => grpcCodeOf(e) !== undefined,
    code: Code.Internal,
    message: () => "temporal failed to answer",
  },
  {
    name: "Temporal unreachable",
    match: (e) => NETWORK_ERRNOS.has(String((e as { code?: unknown } | undefined)?.code)),
    code: Code.Unavailable,
    message: (e) => `temporal is unreachable: ${(e as Error).message}`,
  },
];

/** The Connect error for a Temporal failure, keeping the original as `cause`; undefined when no row matches. */
export function temporalErrorToConnect(err: unknown): ConnectError | undefined {
  const row = TEMPORAL_ERROR_TABLE.find((r) => r.match(err));
  if (row === undefined) return undefined;
  const code = typeof row.code === "function" ? row.code(err) : row.code;
  return new ConnectError(row.message(err), code, undefined, undefined, err);
}
