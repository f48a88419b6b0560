// A workflow's failure as the client sees it: its message, type, stack and causes. The stack is the worker's
// (where the workflow threw); its file locations are cut to file names, so no answer carries the worker's or
// the server's directory layout.
import { CancelledFailure, TemporalFailure, TerminatedFailure, TimeoutFailure } from "@temporalio/common";
import type { FailureInfo, WorkflowStatusName } from "../operations/index.js";

export function statusOfFailure(failure: Error): WorkflowStatusName {
  if (failure instanceof CancelledFailure) return "CANCELED";
  if (failure instanceof TerminatedFailure) return "TERMINATED";
  if (failure instanceof TimeoutFailure) return "TIMED_OUT";
  return "FAILED";
}

export function toFailureInfo(err: Error, depth = 0): FailureInfo {
  const declared = (err as Error & { type?: unknown }).type;
  const type = typeof declared === "string" && declared !== "" ? declared : err.name;
  const cause = err.cause instanceof Error && depth < 8 ? toFailureInfo(err.cause, depth + 1) : undefined;
  // Temporal failures carry the remote stack (where the workflow threw); a local stack says nothing useful.
  const stackTrace = err instanceof TemporalFailure ? withoutDirectories(err.failure?.stackTrace ?? "") : "";
  return { message: err.message, type, stackTrace, cause };
}

/** An absolute file location (POSIX, Windows, or a file:// URL) up to its last separator. */
const DIRECTORIES = /(?:file:\/\/\/?|\b[A-Za-z]:[\\/]|(?<![\w.:/])\/)(?:[^\s()"'`:\\/]+[\\/])+(?=[^\s()"'`:\\/]+)/g;

/**
 * A stack trace with each file location cut to its file name: "at fail (/srv/app/workflows.ts:8:27)"
 * becomes "at fail (workflows.ts:8:27)"; Python's "File "/app/worker.py"" and Go's "/go/src/x/y.go:12" alike.
 */
export function withoutDirectories(stackTrace: string): string {
  return stackTrace.replace(DIRECTORIES, "");
}
