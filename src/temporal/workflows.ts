// Workflow operations on Temporal, in domain terms: plain JSON in, plain JSON out. The services translate
// protos to and from these; nothing else in Flowgate calls the Temporal client.
import { randomUUID } from "node:crypto";
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
} from "@temporalio/client";
import { CancelledFailure, TemporalFailure, TerminatedFailure, TimeoutFailure } from "@temporalio/common";
import type { TemporalClient } from "./connection.js";
import { RequestIdConflictError, RunClosedError, RunDeadlineError } from "./errors.js";

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

export interface StartInput {
  readonly workflowType: string;
  /** Empty: generated (from requestId when given). */
  readonly workflowId: string;
  readonly taskQueue: string;
  readonly args: readonly unknown[];
  /** Idempotency key; empty for none. */
  readonly requestId: string;
}

export interface RunRef {
  readonly workflowId: string;
  readonly runId: string;
}

export interface RunDescription extends RunRef {
  readonly workflowType: string;
  readonly taskQueue: string;
  readonly status: WorkflowStatusName;
  readonly startTime: Date;
  readonly closeTime: Date | undefined;
  readonly historyLength: number;
}

export interface FailureInfo {
  readonly message: string;
  readonly type: string;
  readonly stackTrace: string;
  readonly cause: FailureInfo | undefined;
}

/** A run's status and, once it closed with one, its result or failure. */
export interface RunOutcome extends RunRef {
  readonly status: WorkflowStatusName;
  readonly outcome: { kind: "result"; value: unknown } | { kind: "failure"; failure: FailureInfo } | undefined;
}

export interface StopInput extends RunRef {
  readonly terminate: boolean;
  readonly reason: string;
}

/** Memo key that records the request_id a run was started for, so a retried start can recognise it. */
const REQUEST_ID_MEMO = "flowgate.request_id";

const DEFAULT_STOP_REASON = "stopped through Flowgate";

export class WorkflowOperations {
  constructor(private readonly temporal: TemporalClient) {}

  /**
   * Starts a run. With a request id the start is idempotent: the id is kept in the run's memo, and a start
   * whose workflow id already holds a run with the same request id returns that run, open or closed,
   * instead of starting another. Without a workflow id, the id is derived from the request id and may not
   * be reused, so even two retries racing each other start one run.
   */
  async start(input: StartInput, signal: AbortSignal): Promise<RunRef> {
    const { requestId } = input;
    const derivedId = input.workflowId === "" && requestId !== "";
    const workflowId =
      input.workflowId !== "" ? input.workflowId : derivedId ? `${input.workflowType}-${requestId}` : `${input.workflowType}-${randomUUID()}`;
    return this.within(signal, async () => {
      if (requestId !== "") {
        const earlier = await this.runStartedFor(workflowId, requestId);
        if (earlier !== undefined) return earlier;
      }
      try {
        const handle = await this.temporal.client.workflow.start(input.workflowType, {
          workflowId,
          taskQueue: input.taskQueue,
          args: [...input.args],
          memo: requestId !== "" ? { [REQUEST_ID_MEMO]: requestId } : undefined,
          workflowIdReusePolicy: derivedId ? "REJECT_DUPLICATE" : undefined,
        });
        return { workflowId, runId: handle.firstExecutionRunId };
      } catch (err) {
        if (requestId === "" || !(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // A retry racing the first attempt: the run it started is there now.
        const earlier = await this.runStartedFor(workflowId, requestId);
        if (earlier !== undefined) return earlier;
        throw new RequestIdConflictError(workflowId, err);
      }
    });
  }

  async describe(ref: RunRef, signal: AbortSignal): Promise<RunDescription> {
    return this.within(signal, async () => toRunDescription(await this.handle(ref).describe()));
  }

  /**
   * The outcome of a run. An open run is waited on for up to `waitMs` (0: not at all); the call's own
   * signal still bounds the wait, and its abort propagates as the caller's error. Without a run id the
   * latest run is meant, and the wait follows it through continue-as-new and retries to the final run.
   */
  async result(ref: RunRef, waitMs: number, signal: AbortSignal): Promise<RunOutcome> {
    // Resolve the run first, so the answer names the run it speaks of even when the request named none.
    const description = await this.describe(ref, signal);
    const run: RunRef = { workflowId: description.workflowId, runId: description.runId };
    if (!isOpen(description.status)) return this.within(signal, () => this.closedOutcome(run, description.status));
    if (waitMs <= 0) return { ...run, status: description.status, outcome: undefined };

    const follow = ref.runId === "";
    const waitSignal = AbortSignal.any([signal, AbortSignal.timeout(waitMs)]);
    try {
      return await this.temporal.connection.withAbortSignal(waitSignal, () => this.awaitOutcome(run, follow));
    } catch (err) {
      if (signal.aborted || !waitSignal.aborted) throw err;
      // The wait ran out before the run closed: answer with the status it has now.
      const now = await this.describe(follow ? { workflowId: run.workflowId, runId: "" } : run, signal);
      const current: RunRef = { workflowId: now.workflowId, runId: now.runId };
      return isOpen(now.status)
        ? { ...current, status: now.status, outcome: undefined }
        : this.within(signal, () => this.closedOutcome(current, now.status));
    }
  }

  /**
   * Starts a run and waits for its final outcome, following continue-as-new and retries, bounded by
   * `signal` (the call's deadline). At the deadline the workflow keeps running; the error names it.
   */
  async run(input: StartInput, signal: AbortSignal): Promise<RunOutcome> {
    let run: RunRef | undefined;
    try {
      run = await this.start(input, signal);
      const started = run;
      return await this.within(signal, () => this.awaitOutcome(started, true));
    } catch (err) {
      // Out of time (or the client went away: the error mapping then reports that instead).
      if (!signal.aborted) throw err;
      throw new RunDeadlineError(run, err);
    }
  }

  /**
   * Cancels or terminates a run. The run is resolved first, so a run that already closed is refused with
   * FailedPrecondition (Temporal would accept a repeated cancel request silently) and the answer names the
   * run that was stopped.
   */
  async stop(input: StopInput, signal: AbortSignal): Promise<RunRef> {
    const current = await this.describe(input, signal);
    const run: RunRef = { workflowId: current.workflowId, runId: current.runId };
    if (!isOpen(current.status)) {
      throw new RunClosedError(run.workflowId, run.runId, current.status);
    }
    const reason = input.reason !== "" ? input.reason : DEFAULT_STOP_REASON;
    await this.within(signal, async () => {
      if (input.terminate) {
        await this.handle(run).terminate(reason);
      } else {
        // The SDK's handle.cancel() cannot carry a reason; the service call can.
        await this.temporal.client.workflowService.requestCancelWorkflowExecution({
          namespace: this.temporal.namespace,
          workflowExecution: { workflowId: run.workflowId, runId: run.runId },
          identity: this.temporal.client.options.identity,
          requestId: randomUUID(),
          reason,
        });
      }
    });
    return run;
  }

  /** True when Temporal answers for our namespace. */
  async ready(timeoutMs: number): Promise<boolean> {
    try {
      await this.temporal.connection.withDeadline(Date.now() + timeoutMs, () =>
        this.temporal.client.workflowService.describeNamespace({ namespace: this.temporal.namespace }),
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Runs Temporal calls under the RPC's signal: a client that goes away or runs out of time stops them. */
  private within<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return this.temporal.connection.withAbortSignal(signal, fn);
  }

  /** The run of `workflowId` that `requestId` started, if its latest run is that one. */
  private async runStartedFor(workflowId: string, requestId: string): Promise<RunRef | undefined> {
    try {
      const latest = await this.temporal.client.workflow.getHandle(workflowId).describe();
      return latest.memo?.[REQUEST_ID_MEMO] === requestId ? { workflowId, runId: latest.runId } : undefined;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  private handle(ref: RunRef) {
    return this.temporal.client.workflow.getHandle(ref.workflowId, ref.runId || undefined, { followRuns: false });
  }

  /**
   * Waits for a run to close. With `follow`, a run that continues as new (or is retried) is followed to the
   * last run of its chain, whose id the outcome then carries; without, that run's own close is reported.
   */
  private async awaitOutcome(run: RunRef, follow: boolean): Promise<RunOutcome> {
    const handle = this.temporal.client.workflow.getHandle(run.workflowId, run.runId, { followRuns: follow });
    const finalRun = async (): Promise<RunRef> =>
      follow ? { workflowId: run.workflowId, runId: (await this.temporal.client.workflow.getHandle(run.workflowId).describe()).runId } : run;
    try {
      const value = await handle.result();
      return { ...(await finalRun()), status: "COMPLETED", outcome: { kind: "result", value } };
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const failure = err.cause ?? err;
        return { ...(await finalRun()), status: statusOfFailure(failure), outcome: { kind: "failure", failure: toFailureInfo(failure) } };
      }
      if (err instanceof Error && err.name === "WorkflowContinuedAsNewError") {
        return { ...run, status: "CONTINUED_AS_NEW", outcome: undefined };
      }
      throw err;
    }
  }

  /** The outcome of a run known to be closed. */
  private async closedOutcome(run: RunRef, status: WorkflowStatusName): Promise<RunOutcome> {
    if (status === "CONTINUED_AS_NEW" || status === "UNSPECIFIED") return { ...run, status, outcome: undefined };
    return this.awaitOutcome(run, false);
  }
}

/** Open runs can still change: running, or paused by an operator. */
function isOpen(status: WorkflowStatusName): boolean {
  return status === "RUNNING" || status === "PAUSED";
}

function toRunDescription(d: WorkflowExecutionDescription): RunDescription {
  return {
    workflowId: d.workflowId,
    runId: d.runId,
    workflowType: d.type,
    taskQueue: d.taskQueue,
    status: d.status.name === "CANCELLED" ? "CANCELED" : d.status.name === "UNKNOWN" ? "UNSPECIFIED" : d.status.name,
    startTime: d.startTime,
    closeTime: d.closeTime,
    historyLength: d.historyLength,
  };
}

function statusOfFailure(failure: Error): WorkflowStatusName {
  if (failure instanceof CancelledFailure) return "CANCELED";
  if (failure instanceof TerminatedFailure) return "TERMINATED";
  if (failure instanceof TimeoutFailure) return "TIMED_OUT";
  return "FAILED";
}

function toFailureInfo(err: Error, depth = 0): FailureInfo {
  const declared = (err as Error & { type?: unknown }).type;
  const type = typeof declared === "string" && declared !== "" ? declared : err.name;
  const cause = err.cause instanceof Error && depth < 8 ? toFailureInfo(err.cause, depth + 1) : undefined;
  // Temporal failures carry the remote stack (where the workflow threw); a local stack says nothing useful.
  const stackTrace = err instanceof TemporalFailure ? (err.failure?.stackTrace ?? "") : "";
  return { message: err.message, type, stackTrace, cause };
}
