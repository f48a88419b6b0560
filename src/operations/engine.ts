// What the workflow operations need from a workflow engine, in domain terms: plain JSON in and out, no SDK
// types. src/temporal implements it with @temporalio/client; nothing here knows how.
import type { IdReusePolicy } from "../registry/index.js";

/** Temporal's workflow id conflict policies: what a start does when the id holds an open run. */
export type IdConflictPolicy = "FAIL" | "USE_EXISTING" | "TERMINATE_EXISTING";

/** How Temporal retries a failed run; undefined fields take Temporal's defaults. */
export interface RetrySpec {
  readonly initialIntervalMs: number | undefined;
  readonly backoffCoefficient: number | undefined;
  readonly maximumIntervalMs: number | undefined;
  /** 0: unlimited. */
  readonly maximumAttempts: number | undefined;
  readonly nonRetryableErrorTypes: readonly string[];
}
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
  readonly searchAttributes: Readonly<Record<string, unknown>> | undefined;
  readonly idReusePolicy: IdReusePolicy | undefined;
  readonly idConflictPolicy: IdConflictPolicy | undefined;
  readonly executionTimeoutMs: number | undefined;
  readonly runTimeoutMs: number | undefined;
  readonly taskTimeoutMs: number | undefined;
  readonly retry: RetrySpec | undefined;
  readonly startDelayMs: number | undefined;
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
  readonly pendingActivities: readonly PendingActivityInfo[];
  readonly progress: ProgressInfo | undefined;
  readonly inputRequest: InputRequestInfo | undefined;
}

export interface PendingActivityInfo {
  readonly activityId: string;
  readonly activityType: string;
  readonly attempt: number;
  /** SCHEDULED, STARTED or CANCEL_REQUESTED. */
  readonly state: string;
  readonly lastFailure: FailureInfo | undefined;
  readonly nextAttemptScheduleTime: Date | undefined;
}

/** A run as a listing shows it. */
export interface RunSummary {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly taskQueue: string;
  readonly status: WorkflowStatusName;
  readonly startTime: Date | undefined;
  readonly closeTime: Date | undefined;
  readonly historyLength: number;
  readonly memo: Readonly<Record<string, unknown>>;
}

/** One page of a listing; `nextPageToken` undefined on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextPageToken: Uint8Array | undefined;
}

/** One history event as readable JSON. */
export interface ReadableEvent {
  readonly eventId: number;
  readonly eventTime: Date | undefined;
  /** Temporal's event type without its prefix, such as "ActivityTaskCompleted". */
  readonly eventType: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface FailureInfo {
  readonly message: string;
  readonly type: string;
  readonly stackTrace: string;
  readonly cause: FailureInfo | undefined;
}

/** What a workflow last reported about its progress (memo key "flowgate.progress"). */
export interface ProgressInfo {
  readonly step: string;
  /** 0 to 100; undefined when the workflow did not say. */
  readonly percent: number | undefined;
  readonly message: string;
}

/** The input a run waits for from a person (memo key "flowgate.input"). */
export interface InputRequestInfo {
  /** The signal or update that answers it. */
  readonly name: string;
  readonly prompt: string;
  /** JSON Schema of the answer; undefined: any JSON. */
  readonly schema: unknown;
}

/** Memo keys of the history convention workflows in any language use to report progress and await input. */
export const PROGRESS_MEMO = "flowgate.progress";
export const INPUT_MEMO = "flowgate.input";

export type WatchEventType =
  | "STARTED"
  | "ACTIVITY_SCHEDULED"
  | "ACTIVITY_RETRIED"
  | "ACTIVITY_COMPLETED"
  | "ACTIVITY_FAILED"
  | "SIGNAL_RECEIVED"
  | "UPDATE_ACCEPTED"
  | "UPDATE_COMPLETED"
  | "TIMER_STARTED"
  | "TIMER_FIRED"
  | "PROGRESS"
  | "WAITING_FOR_INPUT"
  | "INPUT_RECEIVED"
  | "CANCEL_REQUESTED"
  | "COMPLETED"
  | "FAILED"
  | "CANCELED"
  | "TERMINATED"
  | "TIMED_OUT"
  | "CONTINUED_AS_NEW";

/** One meaningful event of a run, from its history (see WorkflowEventType in the proto for each type's fields). */
export interface WatchEvent {
  /** The history event id it comes from, in its run. */
  readonly eventId: number;
  readonly runId: string;
  readonly time: Date;
  readonly type: WatchEventType;
  /** Activity type, signal, update or timer id; the workflow type for STARTED; "" when none. */
  readonly name: string;
  /** Activity attempt; 0 when not an activity event. */
  readonly attempt: number;
  /** Input or result as a JSON value; undefined when the event carries none. */
  readonly data: unknown;
  readonly failure: FailureInfo | undefined;
  readonly progress: ProgressInfo | undefined;
  readonly inputRequest: InputRequestInfo | undefined;
  /** For CONTINUED_AS_NEW; "" otherwise. */
  readonly newRunId: string;
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
  /** Sends a signal; Temporal delivers a signal retried with the same `requestId` once. */
  signal(ref: RunRef, name: string, args: readonly unknown[], requestId: string | undefined, bound: CallBound): Promise<void>;
  /** Runs a query; throws QueryFailedError when the workflow cannot answer it. */
  query(ref: RunRef, name: string, args: readonly unknown[], bound: CallBound): Promise<unknown>;
  /** Runs an update and waits for its result; throws UpdateFailedError when the workflow refuses it or fails it. */
  update(ref: RunRef, name: string, args: readonly unknown[], updateId: string, bound: CallBound): Promise<unknown>;
  /** Signals the run of `spec.workflowId`, starting it from `spec` first when no run is open. */
  signalWithStart(
    spec: StartSpec,
    signal: { name: string; args: readonly unknown[] },
    bound: CallBound,
  ): Promise<{ runId: string; started: boolean }>;
  /** One page of the runs a visibility query selects, newest first. */
  list(query: string, pageSize: number, pageToken: Uint8Array | undefined, bound: CallBound): Promise<Page<RunSummary>>;
  /** How many runs a visibility query selects. */
  count(query: string, bound: CallBound): Promise<number>;
  /** One page of a run's history, oldest first, as readable JSON. */
  history(ref: RunRef, pageSize: number, pageToken: Uint8Array | undefined, bound: CallBound): Promise<Page<ReadableEvent>>;
  /**
   * The watch events of one run (not the latest: `runId` must be set), from its first history event, as
   * Temporal records them: long-polls while the run is open, ends after its close event. Stops, throwing
   * the signal's reason, when `signal` aborts.
   */
  watchRun(ref: RunRef, signal: AbortSignal): AsyncIterable<WatchEvent>;
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
