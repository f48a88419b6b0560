// The one table that turns Temporal failures into Connect errors. Each row has a test (test/unit).
import { Code, ConnectError } from "@connectrpc/connect";
import {
  WorkflowContinuedAsNewError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from "@temporalio/client";

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
    name: "gRPC status from Temporal",
    match: (e) => grpcCodeOf(e) !== undefined,
    code: (e) => grpcCodeOf(e) as Code,
    message: (e) => `temporal: ${grpcDetailsOf(e)}`,
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
