// The table that turns Temporal's failures into Connect errors. Each row has a test (test/unit).
import { Code } from "@connectrpc/connect";
import {
  WorkflowContinuedAsNewError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from "@temporalio/client";
import type { ErrorTable } from "../errors/index.js";

/**
 * The gRPC status of a Temporal failure, found along its cause chain (the SDK wraps grpc-js errors): the
 * code (gRPC codes share their numbers with Connect codes) and the server's details, else the message.
 */
export function grpcStatusOf(err: unknown): { code: number | undefined; details: string } {
  let code: number | undefined;
  let details: string | undefined;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const found = e as { code?: unknown; details?: unknown };
    if (code === undefined && typeof found.code === "number" && found.code >= 1 && found.code <= 16) code = found.code;
    if (details === undefined && typeof found.details === "string" && found.details !== "") details = found.details;
  }
  return { code, details: details ?? (err instanceof Error ? err.message : String(err)) };
}

const grpcCodeOf = (err: unknown) => grpcStatusOf(err).code;
const grpcDetailsOf = (err: unknown) => grpcStatusOf(err).details;

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

export const TEMPORAL_ERROR_TABLE: ErrorTable = [
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

/** Whether Temporal answered that the workflow or run does not exist (deleted, or past retention). */
export function isRunNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError;
}
