// The workflow operations the API performs, whichever face of it is called (WorkflowService today, typed
// services and seed-compatible paths later): the rules for starting (type, input, task queue, arguments,
// ids, idempotency), waiting and stopping live here once. Engine calls go through the WorkflowEngine port.
import { randomUUID } from "node:crypto";
import type { JsonValue } from "@bufbuild/protobuf";
import type { WorkflowRegistry, WorkflowTypeDefinition } from "../registry/index.js";
import { isOpen, type RunDescription, type RunOutcome, type RunRef, type StartSpec, type WorkflowEngine } from "./engine.js";
import { RequestIdConflictError, RunClosedError, RunDeadlineError, WorkflowAlreadyStartedError } from "./errors.js";

/** A start as a client asks for it; empty strings mean "not given". */
export interface StartRequest {
  readonly workflowType: string;
  /** Empty: derived from requestId when given, else generated. */
  readonly workflowId: string;
  /** Empty: the type's queue, else the server's default. */
  readonly taskQueue: string;
  readonly input: JsonValue | undefined;
  /** Idempotency key; empty for none. */
  readonly requestId: string;
}

export interface StopRequest extends RunRef {
  readonly terminate: boolean;
  readonly reason: string;
}

export interface OperationsOptions {
  /** Task queue for types that name none. */
  readonly defaultTaskQueue: string;
  /** Bound of a run-and-wait whose call carries no deadline of its own. */
  readonly runTimeoutMs: number;
}

/** Memo key that records the request_id a run was started for, so a retried start can recognise it. */
const REQUEST_ID_MEMO = "flowgate.request_id";

const DEFAULT_STOP_REASON = "stopped through Flowgate";

export class WorkflowOperations {
  constructor(
    private readonly engine: WorkflowEngine,
    readonly registry: WorkflowRegistry,
    private readonly options: OperationsOptions,
  ) {}

  /** The task queue a start of `type` goes to when the request names none. */
  taskQueueOf(type: WorkflowTypeDefinition): string {
    return type.taskQueue ?? this.options.defaultTaskQueue;
  }

  /**
   * Turns a request into what the engine starts: the registered type (or a refusal naming the registered
   * ones), its input checked against the type's schema, the task queue (request, then type, then server
   * default), the arguments, and the workflow id (given, derived from the request id, or generated).
   */
  prepareStart(req: StartRequest): StartSpec {
    const type = this.registry.resolve(req.workflowType);
    this.registry.checkInput(type, req.input);
    const derivedId = req.workflowId === "" && req.requestId !== "";
    const workflowId =
      req.workflowId !== "" ? req.workflowId : derivedId ? `${type.name}-${req.requestId}` : `${type.name}-${randomUUID()}`;
    return {
      workflowType: type.name,
      workflowId,
      taskQueue: req.taskQueue || this.taskQueueOf(type),
      args: argsOf(type, req.input),
      memo: req.requestId !== "" ? { [REQUEST_ID_MEMO]: req.requestId } : undefined,
      // A derived id may never be reused: even two retries racing each other then start one run.
      idReusePolicy: derivedId ? "REJECT_DUPLICATE" : type.defaults.idReusePolicy,
      executionTimeoutMs: type.defaults.executionTimeoutMs,
      runTimeoutMs: type.defaults.runTimeoutMs,
      taskTimeoutMs: type.defaults.taskTimeoutMs,
    };
  }

  /**
   * Starts a run. With a request id the start is idempotent: the id is kept in the run's memo, and a start
   * whose workflow id already holds a run with the same request id returns that run, open or closed,
   * instead of starting another.
   */
  async start(req: StartRequest, signal: AbortSignal): Promise<RunRef> {
    const spec = this.prepareStart(req);
    const { workflowId } = spec;
    if (req.requestId !== "") {
      const earlier = await this.runStartedFor(workflowId, req.requestId, signal);
      if (earlier !== undefined) return earlier;
    }
    try {
      return await this.engine.start(spec, signal);
    } catch (err) {
      if (req.requestId === "" || !(err instanceof WorkflowAlreadyStartedError)) throw err;
      // A retry racing the first attempt: the run it started is there now.
      const earlier = await this.runStartedFor(workflowId, req.requestId, signal);
      if (earlier !== undefined) return earlier;
      throw new RequestIdConflictError(workflowId, err);
    }
  }

  /**
   * Starts a run and waits for its final outcome, following continue-as-new and retries. The wait is bounded
   * by `signal` (the call's deadline) or, when the call set none, by the server's run timeout. At the bound
   * the workflow keeps running; the error names it.
   */
  async run(req: StartRequest, signal: AbortSignal, callHasDeadline: boolean): Promise<RunOutcome> {
    const bounded = callHasDeadline ? signal : AbortSignal.any([signal, AbortSignal.timeout(this.options.runTimeoutMs)]);
    let run: RunRef | undefined;
    try {
      run = await this.start(req, bounded);
      return await this.engine.awaitOutcome(run, true, bounded);
    } catch (err) {
      // Out of time (or the client went away: the error mapping then reports that instead).
      if (!bounded.aborted) throw err;
      throw new RunDeadlineError(run, err);
    }
  }

  status(ref: RunRef, signal: AbortSignal): Promise<RunDescription> {
    return this.engine.describe(ref, signal);
  }

  /**
   * The outcome of a run. An open run is waited on for up to `waitMs` (0: not at all); the call's own
   * signal still bounds the wait, and its abort propagates as the caller's error. Without a run id the
   * latest run is meant, and the wait follows it through continue-as-new and retries to the final run.
   */
  async result(ref: RunRef, waitMs: number, signal: AbortSignal): Promise<RunOutcome> {
    // Resolve the run first, so the answer names the run it speaks of even when the request named none.
    const description = await this.engine.describe(ref, signal);
    const run: RunRef = { workflowId: description.workflowId, runId: description.runId };
    if (!isOpen(description.status)) return this.closedOutcome(run, description, signal);
    if (waitMs <= 0) return { ...run, status: description.status, outcome: undefined };

    const follow = ref.runId === "";
    const waitSignal = AbortSignal.any([signal, AbortSignal.timeout(waitMs)]);
    try {
      return await this.engine.awaitOutcome(run, follow, waitSignal);
    } catch (err) {
      if (signal.aborted || !waitSignal.aborted) throw err;
      // The wait ran out before the run closed: answer with the status it has now.
      const now = await this.engine.describe(follow ? { workflowId: run.workflowId, runId: "" } : run, signal);
      const current: RunRef = { workflowId: now.workflowId, runId: now.runId };
      return isOpen(now.status) ? { ...current, status: now.status, outcome: undefined } : this.closedOutcome(current, now, signal);
    }
  }

  /**
   * Cancels or terminates a run. The run is resolved first, so a run that already closed is refused (Temporal
   * would accept a repeated cancel request silently) and the answer names the run that was stopped.
   */
  async stop(req: StopRequest, signal: AbortSignal): Promise<RunRef> {
    const current = await this.engine.describe(req, signal);
    const run: RunRef = { workflowId: current.workflowId, runId: current.runId };
    if (!isOpen(current.status)) throw new RunClosedError(run.workflowId, run.runId, current.status);
    const reason = req.reason !== "" ? req.reason : DEFAULT_STOP_REASON;
    if (req.terminate) await this.engine.terminate(run, reason, signal);
    else await this.engine.cancel(run, reason, signal);
    return run;
  }

  /** The run of `workflowId` that `requestId` started, if its latest run is that one. */
  private async runStartedFor(workflowId: string, requestId: string, signal: AbortSignal): Promise<RunRef | undefined> {
    const latest = await this.engine.findLatest(workflowId, signal);
    return latest?.memo[REQUEST_ID_MEMO] === requestId ? { workflowId, runId: latest.runId } : undefined;
  }

  /** The outcome of a run known to be closed. */
  private async closedOutcome(run: RunRef, description: RunDescription, signal: AbortSignal): Promise<RunOutcome> {
    const { status } = description;
    if (status === "CONTINUED_AS_NEW" || status === "UNSPECIFIED") return { ...run, status, outcome: undefined };
    return this.engine.awaitOutcome(run, false, signal);
  }
}

/** The workflow's arguments from the request's JSON input (checked against the type already). */
function argsOf(type: WorkflowTypeDefinition, input: JsonValue | undefined): unknown[] {
  if (input === undefined) return [];
  return type.args === "spread" ? (input as JsonValue[]) : [input];
}
