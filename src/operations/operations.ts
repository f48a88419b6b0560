// The workflow operations the API performs, whichever face of it is called (WorkflowService today, typed
// services and seed-compatible paths later): the rules for starting (type, input, task queue, arguments,
// ids, idempotency), waiting and stopping live here once. Engine calls go through the WorkflowEngine port.
import { randomUUID } from "node:crypto";
import type { JsonValue } from "@bufbuild/protobuf";
import type { WorkflowRegistry, WorkflowTypeDefinition } from "../registry/index.js";
import { withTimeLimit, type CallBound } from "./bound.js";
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

/** How many earlier runs of a workflow id a retried start looks through for the run its request_id made. */
const EARLIER_RUNS_SEARCHED = 1000;

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
      requestId: req.requestId !== "" ? req.requestId : undefined,
      // A derived id may never be reused: even two retries racing each other then start one run.
      idReusePolicy: derivedId ? "REJECT_DUPLICATE" : type.defaults.idReusePolicy,
      executionTimeoutMs: type.defaults.executionTimeoutMs,
      runTimeoutMs: type.defaults.runTimeoutMs,
      taskTimeoutMs: type.defaults.taskTimeoutMs,
    };
  }

  /**
   * Starts a run. With a request id the start is idempotent, open run or closed:
   * - concurrent and repeated starts race inside Temporal, which keys the start on the request id
   *   (StartWorkflowExecution's own `request_id`): they make one run and all answer with it;
   * - a retry that comes after another request id started a newer run on the same workflow id finds its own
   *   run among the earlier ones (kept in the run's memo; looked up in Temporal's visibility store, which
   *   lags writes by up to a second on a cluster with Elasticsearch) instead of starting a third.
   */
  async start(req: StartRequest, bound: CallBound): Promise<RunRef> {
    const spec = this.prepareStart(req);
    const { workflowId } = spec;
    if (req.requestId !== "") {
      const earlier = await this.runStartedFor(workflowId, req.requestId, bound);
      if (earlier !== undefined) return earlier;
    }
    try {
      return await this.engine.start(spec, bound);
    } catch (err) {
      if (req.requestId === "" || !(err instanceof WorkflowAlreadyStartedError)) throw err;
      throw new RequestIdConflictError(workflowId, err);
    }
  }

  /**
   * Starts a run and waits for its final outcome, following continue-as-new and retries. The wait is bounded
   * by the call's deadline or, when the call set none, by the server's run timeout. At the bound the workflow
   * keeps running; the error names it.
   */
  async run(req: StartRequest, bound: CallBound): Promise<RunOutcome> {
    const limited = bound.deadline === undefined ? withTimeLimit(bound, this.options.runTimeoutMs) : undefined;
    const within = limited ?? bound;
    let run: RunRef | undefined;
    try {
      run = await this.start(req, within);
      return await this.engine.awaitOutcome(run, true, within);
    } catch (err) {
      // The client went away or the server shuts down: the error mapping reports that.
      if (bound.signal.aborted) throw err;
      // Out of time: the call's deadline, or the server's own bound.
      if (limited?.expired || (bound.deadline !== undefined && Date.now() >= bound.deadline)) throw new RunDeadlineError(run, err);
      throw err;
    } finally {
      limited?.dispose();
    }
  }

  status(ref: RunRef, bound: CallBound): Promise<RunDescription> {
    return this.engine.describe(ref, bound);
  }

  /**
   * The outcome of a run. An open run is waited on for up to `waitMs` (0: not at all); the call's own
   * bound still applies, and its abort or deadline propagates as the caller's error. Without a run id the
   * latest run is meant, and the wait follows it through continue-as-new and retries to the final run.
   */
  async result(ref: RunRef, waitMs: number, bound: CallBound): Promise<RunOutcome> {
    // Resolve the run first, so the answer names the run it speaks of even when the request named none.
    const description = await this.engine.describe(ref, bound);
    const run: RunRef = { workflowId: description.workflowId, runId: description.runId };
    if (!isOpen(description.status)) return this.closedOutcome(run, description, bound);
    if (waitMs <= 0) return { ...run, status: description.status, outcome: undefined };

    const follow = ref.runId === "";
    const wait = withTimeLimit(bound, waitMs);
    try {
      return await this.engine.awaitOutcome(run, follow, wait);
    } catch (err) {
      if (!wait.expired) throw err;
      // The wait ran out before the run closed: answer with the status it has now.
      const now = await this.engine.describe(follow ? { workflowId: run.workflowId, runId: "" } : run, bound);
      const current: RunRef = { workflowId: now.workflowId, runId: now.runId };
      return isOpen(now.status) ? { ...current, status: now.status, outcome: undefined } : this.closedOutcome(current, now, bound);
    } finally {
      wait.dispose();
    }
  }

  /**
   * Cancels or terminates a run. The run is resolved first, so a run that already closed is refused (Temporal
   * would accept a repeated cancel request silently) and the answer names the run that was stopped.
   */
  async stop(req: StopRequest, bound: CallBound): Promise<RunRef> {
    const current = await this.engine.describe(req, bound);
    const run: RunRef = { workflowId: current.workflowId, runId: current.runId };
    if (!isOpen(current.status)) throw new RunClosedError(run.workflowId, run.runId, current.status);
    const reason = req.reason !== "" ? req.reason : DEFAULT_STOP_REASON;
    if (req.terminate) await this.engine.terminate(run, reason, bound);
    else await this.engine.cancel(run, reason, bound);
    return run;
  }

  /**
   * The run of `workflowId` that `requestId` started, if any. The latest run is asked first (one cheap call);
   * only when it is closed and was started for another request id are the earlier runs searched.
   */
  private async runStartedFor(workflowId: string, requestId: string, bound: CallBound): Promise<RunRef | undefined> {
    const latest = await this.engine.findLatest(workflowId, bound);
    if (latest === undefined) return undefined;
    if (latest.memo[REQUEST_ID_MEMO] === requestId) return { workflowId, runId: latest.runId };
    // An open run started for another request (or none): Temporal refuses the start.
    if (isOpen(latest.status)) return undefined;
    for await (const earlier of this.engine.listRuns(workflowId, EARLIER_RUNS_SEARCHED, bound)) {
      if (earlier.memo[REQUEST_ID_MEMO] === requestId) return { workflowId, runId: earlier.runId };
    }
    return undefined;
  }

  /** The outcome of a run known to be closed. */
  private async closedOutcome(run: RunRef, description: RunDescription, bound: CallBound): Promise<RunOutcome> {
    const { status } = description;
    if (status === "CONTINUED_AS_NEW" || status === "UNSPECIFIED") return { ...run, status, outcome: undefined };
    return this.engine.awaitOutcome(run, false, bound);
  }
}

/** The workflow's arguments from the request's JSON input (checked against the type already). */
function argsOf(type: WorkflowTypeDefinition, input: JsonValue | undefined): unknown[] {
  if (input === undefined) return [];
  return type.args === "spread" ? (input as JsonValue[]) : [input];
}
