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

/**
 * Stack frame lines, by the shapes workers write them, each with the directory part to drop: Node's
 * "at fn (/dir/file.ts:1:2)" and "at /dir/file.ts:1:2", Python's 'File "/dir/file.py", line 3', Go's
 * "\t/dir/file.go:4 +0x1d". Paths may hold spaces; other lines (the message, data) are left as they are.
 */
const FRAMES: readonly RegExp[] = [
  /(\bat .*\()(?:file:\/\/\/?)?(?:[A-Za-z]:)?[^()]*[\\/]([^\\/()]+:\d+(?::\d+)?\))/,
  /^(\s*at (?:async )?)(?:file:\/\/\/?)?(?:[A-Za-z]:)?\S*[\\/]([^\\/\s]+:\d+(?::\d+)?)\s*$/,
  /^(\s*File ")[^"]*[\\/]([^\\/"]+",)/,
  /^(\s+)(?:[A-Za-z]:)?[\\/][^:]*[\\/]([^\\/:]+\.go:\d+)/,
];

/**
 * A stack trace with each frame's file location cut to its file name: "at fail (/srv/app/workflows.ts:8:27)"
 * becomes "at fail (workflows.ts:8:27)"; Python's and Go's frames alike.
 */
export function withoutDirectories(stackTrace: string): string {
  return stackTrace
    .split("\n")
    .map((line) => FRAMES.reduce((text, frame) => text.replace(frame, "$1$2"), line))
    .join("\n");
}
