// What the workflow operations need from a workflow engine, in domain terms: plain JSON in and out, no SDK
// types. src/temporal implements it with @temporalio/client; nothing here knows how.
import type { IdReusePolicy } from "../registry/index.js";
import type { CallBound } from "./bound.js";

export type WorkflowStatusName =
  | "UNSPECIFIED"
  | "RUNNING"
  | "COMPLETED"
  | "FAILED"
  | "CANCELED"
  | "TERMINATED"
  | "CONTINUED_AS_NEW"
  | "TIMED_OUT"
  | "PAUSED";

export interface RunRef {
  readonly workflowId: string;
  /** Empty: the latest run of the workflow id. */
  readonly runId: string;
}

/** Everything the engine needs to start one run; the operations decide every field. */
export interface StartSpec {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly taskQueue: string;
  readonly args: readonly unknown[];
  readonly memo: Readonly<Record<string, unknown>> | undefined;
  readonly idReusePolicy: IdReusePolicy | undefined;
  readonly executionTimeoutMs: number | undefined;
  readonly runTimeoutMs: number | undefined;
  readonly taskTimeoutMs: number | undefined;
  /**
   * The engine's own idempotency key for this start: starts with the same key on the same workflow id
   * make one run, however they race. Undefined: a fresh key per start.
   */
  readonly requestId: string | undefined;
}

export interface RunDescription {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly taskQueue: string;
  readonly status: WorkflowStatusName;
  readonly startTime: Date;
  readonly closeTime: Date | undefined;
  readonly historyLength: number;
  readonly memo: Readonly<Record<string, unknown>>;
}

/** A run as a listing shows it. */
export interface RunSummary {
  readonly runId: string;
  readonly status: WorkflowStatusName;
  readonly memo: Readonly<Record<string, unknown>>;
}

export interface FailureInfo {
  readonly message: string;
  readonly type: string;
  readonly stackTrace: string;
  readonly cause: FailureInfo | undefined;
}

/** A run's status and, once it closed with one, its result or failure. */
export interface RunOutcome {
  readonly workflowId: string;
  readonly runId: string;
  readonly status: WorkflowStatusName;
  readonly outcome: { kind: "result"; value: unknown } | { kind: "failure"; failure: FailureInfo } | undefined;
}

/**
 * A workflow engine. Every call is bounded by its CallBound: its signal (the client going away, the server
 * shutting down) and its deadline, which the engine passes on to each of its own remote calls.
 * Failures are thrown as the engine's own errors, which its error table maps, except where a method says
 * it throws a domain error.
 */
export interface WorkflowEngine {
  /** Starts a run; throws WorkflowAlreadyStartedError when the id holds a run the policy does not let it replace. */
  start(spec: StartSpec, bound: CallBound): Promise<{ workflowId: string; runId: string }>;
  /** Describes a run (the latest when `runId` is empty); throws the engine's not-found error when there is none. */
  describe(ref: RunRef, bound: CallBound): Promise<RunDescription>;
  /** The latest run of a workflow id, or undefined when the id has never been used. */
  findLatest(workflowId: string, bound: CallBound): Promise<RunDescription | undefined>;
  /**
   * The runs of a workflow id, newest first, as the engine's (eventually consistent) visibility store lists
   * them; at most `limit`.
   */
  listRuns(workflowId: string, limit: number, bound: CallBound): AsyncIterable<RunSummary>;
  /**
   * Waits for a run to close. With `follow`, a run that continues as new (or is retried) is followed to the
   * last run of its chain, whose id the outcome carries; without, that run's own close is reported.
   */
  awaitOutcome(ref: RunRef, follow: boolean, bound: CallBound): Promise<RunOutcome>;
  /** Asks a run to cancel, recording `reason` in its history. */
  cancel(ref: RunRef, reason: string, bound: CallBound): Promise<void>;
  /** Terminates a run at once, recording `reason`. */
  terminate(ref: RunRef, reason: string, bound: CallBound): Promise<void>;
  /** True when the engine answers for its namespace within `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  /** True when some worker has polled `taskQueue` for workflow tasks recently. */
  hasWorkflowPoller(taskQueue: string, timeoutMs: number): Promise<boolean>;
}

/** Open runs can still change: running, or paused by an operator. */
export function isOpen(status: WorkflowStatusName): boolean {
  return status === "RUNNING" || status === "PAUSED";
}
