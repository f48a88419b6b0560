// The workflow operations the API performs, whichever face of it is called (WorkflowService today, typed
// services and seed-compatible paths later): the rules for starting (type, input, task queue, arguments,
// ids, idempotency), waiting and stopping live here once. Engine calls go through the WorkflowEngine port.
import { createHash, randomUUID } from "node:crypto";
import type { JsonValue } from "@bufbuild/protobuf";
import type { HandlerKind, IdReusePolicy, WorkflowRegistry, WorkflowTypeDefinition } from "../registry/index.js";
import { settledBy, withTimeLimit, type CallBound } from "./bound.js";
import {
  isOpen,
  type IdConflictPolicy,
  type ReadableEvent,
  type RetrySpec,
  type RunDescription,
  type RunOutcome,
  type RunRef,
  type RunSummary,
  type StartSpec,
  type WatchEvent,
  type WatchEventType,
  type WorkflowEngine,
  type WorkflowStatusName,
} from "./engine.js";
import { InvalidRequestError, RequestIdConflictError, RunClosedError, RunDeadlineError, RunWaitInterruptedError, WorkflowAlreadyStartedError } from "./errors.js";
import { WatchHub } from "./watch.js";

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
  /** Memo, search attributes, policies, timeouts, retries, delay; absent: the type's defaults. */
  readonly options?: StartOptions;
  /** Who asked ("key:billing", "jwt:alice"), recorded in the run's memo; absent with authentication off. */
  readonly caller?: string | undefined;
}

/** A start's options as a client asks for them; undefined (or empty) means "not given". */
export interface StartOptions {
  readonly memo: Readonly<Record<string, JsonValue>>;
  readonly searchAttributes: Readonly<Record<string, JsonValue>>;
  readonly idConflictPolicy: IdConflictPolicy | undefined;
  readonly idReusePolicy: IdReusePolicy | undefined;
  readonly executionTimeoutMs: number | undefined;
  readonly runTimeoutMs: number | undefined;
  readonly taskTimeoutMs: number | undefined;
  readonly retry: RetrySpec | undefined;
  readonly startDelayMs: number | undefined;
}

/** A signal, query or update for a run. */
export interface HandlerRequest extends RunRef {
  readonly name: string;
  readonly input: JsonValue | undefined;
}

/** Which runs a listing or count selects: every filter given must hold. */
export interface RunFilter {
  /** A visibility query; "" for none. */
  readonly query: string;
  readonly workflowType: string;
  readonly status: WorkflowStatusName | undefined;
  readonly startedAfter: Date | undefined;
  readonly startedBefore: Date | undefined;
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
/** Memo key that records the authenticated caller who started a run. */
export const CALLER_MEMO = "flowgate.caller";

/** How many earlier runs of a workflow id a retried start looks through for the run its request_id made. */
const EARLIER_RUNS_SEARCHED = 1000;

const DEFAULT_STOP_REASON = "stopped through Flowgate";

/** Memo keys a client may not set: Flowgate's own bookkeeping and the progress convention. */
const RESERVED_MEMO_PREFIX = "flowgate.";

/** Events a filtered watch still sends: how the run ended, and where it went. */
const ALWAYS_WATCHED: ReadonlySet<WatchEventType> = new Set(["COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT", "CONTINUED_AS_NEW"]);

/** Page size when a request sets none. */
const DEFAULT_PAGE_SIZE = 100;

/** Visibility's names for the statuses a filter can ask for. */
const VISIBILITY_STATUS: Readonly<Partial<Record<WorkflowStatusName, string>>> = {
  RUNNING: "Running",
  COMPLETED: "Completed",
  FAILED: "Failed",
  CANCELED: "Canceled",
  TERMINATED: "Terminated",
  CONTINUED_AS_NEW: "ContinuedAsNew",
  TIMED_OUT: "TimedOut",
  PAUSED: "Paused",
};

export class WorkflowOperations {
  private readonly watchers: WatchHub;
  /** The signal-with-start attempt in flight per workflow id and request id. */
  private readonly signalsWithStart = new Map<string, Promise<RunRef & { started: boolean }>>();

  constructor(
    private readonly engine: WorkflowEngine,
    readonly registry: WorkflowRegistry,
    private readonly options: OperationsOptions,
  ) {
    this.watchers = new WatchHub(engine);
  }

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
    const o = req.options;
    for (const key of Object.keys(o?.memo ?? {})) {
      if (key.startsWith(RESERVED_MEMO_PREFIX)) {
        throw new InvalidRequestError(`options.memo: key "${key}" is reserved (keys starting with "${RESERVED_MEMO_PREFIX}" are Flowgate's own)`);
      }
    }
    const derivedId = req.workflowId === "" && req.requestId !== "";
    const workflowId =
      req.workflowId !== "" ? req.workflowId : derivedId ? `${type.name}-${req.requestId}` : `${type.name}-${randomUUID()}`;
    const memo = {
      ...o?.memo,
      ...(req.requestId !== "" ? { [REQUEST_ID_MEMO]: req.requestId } : {}),
      ...(req.caller !== undefined ? { [CALLER_MEMO]: req.caller } : {}),
    };
    const searchAttributes = o?.searchAttributes ?? {};
    return {
      workflowType: type.name,
      workflowId,
      taskQueue: req.taskQueue || this.taskQueueOf(type),
      args: argsOf(type, req.input),
      memo: Object.keys(memo).length > 0 ? memo : undefined,
      searchAttributes: Object.keys(searchAttributes).length > 0 ? searchAttributes : undefined,
      requestId: req.requestId !== "" ? req.requestId : undefined,
      // A derived id may never be reused: even two retries racing each other then start one run.
      idReusePolicy: derivedId ? "REJECT_DUPLICATE" : (o?.idReusePolicy ?? type.defaults.idReusePolicy),
      idConflictPolicy: o?.idConflictPolicy,
      executionTimeoutMs: o?.executionTimeoutMs ?? type.defaults.executionTimeoutMs,
      runTimeoutMs: o?.runTimeoutMs ?? type.defaults.runTimeoutMs,
      taskTimeoutMs: o?.taskTimeoutMs ?? type.defaults.taskTimeoutMs,
      retry: o?.retry,
      startDelayMs: o?.startDelayMs,
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
      // The client went away or the server shuts down: the error mapping reports that, naming the run.
      if (bound.signal.aborted) throw run === undefined ? err : new RunWaitInterruptedError(run, err);
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
      if (bound.signal.aborted) throw new RunWaitInterruptedError(run, err);
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
   * Sends a signal to a run, after checking it against the run's registered type: a signal the type declares,
   * with input that matches its schema. The answer names the run that was signaled.
   */
  async signal(req: HandlerRequest & { requestId: string }, bound: CallBound): Promise<RunRef> {
    const run = await this.checkedRun(req, "signal", bound, true);
    await this.engine.signal(run, req.name, handlerArgs(req.input), req.requestId || undefined, bound);
    return run;
  }

  /** Runs a query on a run (open or closed), checked against the run's registered type. */
  async query(req: HandlerRequest, bound: CallBound): Promise<{ run: RunRef; result: unknown }> {
    const run = await this.checkedRun(req, "query", bound, false);
    return { run, result: await this.engine.query(run, req.name, handlerArgs(req.input), bound) };
  }

  /**
   * Runs an update on an open run, checked against its registered type, and waits for its result: bounded
   * like RunWorkflow by the call's deadline or the server's run timeout. A retry with the same request id
   * gets the result of the first attempt's update.
   */
  async update(req: HandlerRequest & { requestId: string }, bound: CallBound): Promise<{ run: RunRef; updateId: string; result: unknown }> {
    const run = await this.checkedRun(req, "update", bound, true);
    const updateId = req.requestId || randomUUID();
    const limited = bound.deadline === undefined ? withTimeLimit(bound, this.options.runTimeoutMs) : undefined;
    try {
      return { run, updateId, result: await this.engine.update(run, req.name, handlerArgs(req.input), updateId, limited ?? bound) };
    } finally {
      limited?.dispose();
    }
  }

  /**
   * Signals the workflow id's open run, or starts one and signals it. Both inputs are checked; the start
   * follows the same rules as a plain start (type, queue, options), and a request id makes retries start at
   * most one run (see `signalWithStartOnce`).
   */
  async signalWithStart(
    req: StartRequest & { signalName: string; signalInput: JsonValue | undefined },
    bound: CallBound,
  ): Promise<RunRef & { started: boolean }> {
    const spec = this.prepareStart(req);
    this.registry.checkHandler(spec.workflowType, "signal", req.signalName, req.signalInput, "signal_input");
    const signal = { name: req.signalName, args: handlerArgs(req.signalInput) };
    const { requestId } = spec;
    if (requestId === undefined) return { workflowId: spec.workflowId, ...(await this.engine.signalWithStart(spec, signal, bound)) };
    // Retries racing in this process share one attempt. When it fails (its caller went away, say), each
    // waiting retry makes its own, one at a time.
    const key = `${spec.workflowId}\u0000${requestId}`;
    for (let leader = this.signalsWithStart.get(key); leader !== undefined; leader = this.signalsWithStart.get(key)) {
      const shared = await settledBy(
        leader.then((run) => run, () => undefined),
        bound.signal,
      );
      if (shared !== undefined) return { ...shared, started: false };
    }
    const attempt = this.signalWithStartOnce(spec, requestId, signal, bound).finally(() => this.signalsWithStart.delete(key));
    this.signalsWithStart.set(key, attempt);
    return attempt;
  }

  /**
   * One signal-with-start keyed on `requestId`. Temporal's SignalWithStartWorkflowExecution keys its start on
   * the request id only while that run is open: once it has closed, the same request would start another.
   * So the first try may not start over a closed run (REJECT_DUPLICATE); when Temporal refuses it, the closed
   * run (or an earlier one) is this request's and is the answer, or it is another request's and the start goes
   * ahead under the caller's own policy. Left open: two replicas retrying at once over another request's
   * closed run, when this request's run starts and closes between their tries (README, "Idempotency").
   */
  private async signalWithStartOnce(
    spec: StartSpec,
    requestId: string,
    signal: { name: string; args: readonly unknown[] },
    bound: CallBound,
  ): Promise<RunRef & { started: boolean }> {
    const { workflowId } = spec;
    let refused: WorkflowAlreadyStartedError;
    try {
      return { workflowId, ...(await this.engine.signalWithStart({ ...spec, idReusePolicy: "REJECT_DUPLICATE" }, signal, bound)) };
    } catch (err) {
      if (!(err instanceof WorkflowAlreadyStartedError)) throw err;
      refused = err;
    }
    const own = await this.runStartedFor(workflowId, requestId, bound);
    if (own !== undefined) return { ...own, started: false };
    if (spec.idReusePolicy === "REJECT_DUPLICATE") throw refused;
    return { workflowId, ...(await this.engine.signalWithStart(spec, signal, bound)) };
  }

  /** One page of the runs the filter selects, newest first. */
  async list(filter: RunFilter, pageSize: number, pageToken: string, bound: CallBound): Promise<{ runs: readonly RunSummary[]; nextPageToken: string }> {
    const page = await this.engine.list(visibilityQuery(filter), pageSize || DEFAULT_PAGE_SIZE, decodePageToken(pageToken), bound);
    return { runs: page.items, nextPageToken: encodePageToken(page.nextPageToken) };
  }

  /** How many runs the filter selects. */
  count(filter: RunFilter, bound: CallBound): Promise<number> {
    return this.engine.count(visibilityQuery(filter), bound);
  }

  /** One page of a run's history (the latest run's when the request names none). */
  async history(
    ref: RunRef,
    pageSize: number,
    pageToken: string,
    bound: CallBound,
  ): Promise<{ run: RunRef; events: readonly ReadableEvent[]; nextPageToken: string }> {
    // The run is resolved first, so every page names the run it belongs to.
    const run = ref.runId !== "" ? ref : await this.resolveRun(ref, bound);
    const page = await this.engine.history(run, pageSize || DEFAULT_PAGE_SIZE, decodePageToken(pageToken), bound);
    return { run, events: page.items, nextPageToken: encodePageToken(page.nextPageToken) };
  }

  /**
   * The watch events of a run after `afterEventId`, as they happen, following continue-as-new to the new
   * run; ends after the last run closes. Every watcher of one run shares one history poll (WatchHub). The
   * run is resolved before the first event, so a missing one fails the call at once.
   */
  async *watch(
    ref: RunRef & { afterEventId: number; types?: ReadonlySet<WatchEventType> },
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent> {
    const wanted = ref.types === undefined || ref.types.size === 0 ? undefined : ref.types;
    let run = ref.runId !== "" ? { workflowId: ref.workflowId, runId: ref.runId } : await this.resolveRun(ref, { signal, deadline: undefined });
    let after = ref.afterEventId;
    for (;;) {
      // One generator between the shared tail and the stream: each event a watcher is sent passes through
      // no other layer of ours (a thousand watchers multiply every layer by a thousand). Events the watcher
      // did not ask for are skipped by the cursor, without waking it. CONTINUED_AS_NEW is always taken, even
      // at or before `after` (a client resuming after it), since it says where to go next.
      const from = after;
      const cursor = this.watchers.open(
        run,
        signal,
        (event) =>
          event.type === "CONTINUED_AS_NEW" ||
          (event.eventId > from && (wanted === undefined || wanted.has(event.type) || ALWAYS_WATCHED.has(event.type))),
      );
      let last: WatchEvent | undefined;
      try {
        for (;;) {
          let event: WatchEvent | undefined;
          while ((event = cursor.take()) !== undefined) {
            last = event;
            if (event.eventId > from) yield event;
          }
          if (cursor.atEnd()) break;
          await cursor.wait();
        }
      } finally {
        cursor.close();
      }
      // A run's last event, when it continued as new, is CONTINUED_AS_NEW: always taken, so `last` is it.
      if (last?.type !== "CONTINUED_AS_NEW" || last.newRunId === "") return;
      run = { workflowId: run.workflowId, runId: last.newRunId };
      after = 0;
    }
  }

  /** The latest run of a workflow id, by its run id. */
  private async resolveRun(ref: RunRef, bound: CallBound): Promise<RunRef> {
    const d = await this.engine.describe({ workflowId: ref.workflowId, runId: "" }, bound);
    return { workflowId: d.workflowId, runId: d.runId };
  }

  /**
   * The run a signal, query or update is for, resolved (so the answer names it), with the message checked
   * against the run's registered type; `open` refuses a closed run.
   */
  private async checkedRun(req: HandlerRequest, kind: HandlerKind, bound: CallBound, open: boolean): Promise<RunRef> {
    const d = await this.engine.describe(req, bound);
    const run: RunRef = { workflowId: d.workflowId, runId: d.runId };
    this.registry.checkHandler(d.workflowType, kind, req.name, req.input);
    if (open && !isOpen(d.status)) throw new RunClosedError(run.workflowId, run.runId, d.status);
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

/** A signal's, query's or update's arguments: its input as the one argument, or none. */
function handlerArgs(input: JsonValue | undefined): unknown[] {
  return input === undefined ? [] : [input];
}

/** The filter as one visibility query: the client's query and each filter, all of which must hold. */
function visibilityQuery(filter: RunFilter): string {
  const clauses: string[] = [];
  if (filter.workflowType !== "") clauses.push(`WorkflowType = ${quote(filter.workflowType)}`);
  if (filter.status !== undefined) {
    const name = VISIBILITY_STATUS[filter.status];
    if (name !== undefined) clauses.push(`ExecutionStatus = ${quote(name)}`);
  }
  if (filter.startedAfter !== undefined) clauses.push(`StartTime >= ${quote(filter.startedAfter.toISOString())}`);
  if (filter.startedBefore !== undefined) clauses.push(`StartTime < ${quote(filter.startedBefore.toISOString())}`);
  const query = filter.query.trim();
  if (query === "") return clauses.join(" AND ");
  if (clauses.length === 0) return query;
  // ORDER BY must stay last, outside the parentheses around the client's condition.
  const order = /\border\s+by\b/i.exec(query);
  const condition = (order === null ? query : query.slice(0, order.index)).trim();
  const orderBy = order === null ? "" : ` ${query.slice(order.index)}`;
  return `${condition === "" ? "" : `(${condition}) AND `}${clauses.join(" AND ")}${orderBy}`;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

/**
 * A page token as clients carry it: Temporal's bytes, base64url, then "." and a short checksum of them. The
 * checksum is not a secret: it lets a token that is not one of ours be refused at once, instead of after the
 * SDK has retried Temporal's UNKNOWN answer to it for many seconds.
 */
function encodePageToken(token: Uint8Array | undefined): string {
  if (token === undefined || token.length === 0) return "";
  const text = Buffer.from(token).toString("base64url");
  return `${text}.${pageTokenCheck(text)}`;
}

function decodePageToken(token: string): Uint8Array | undefined {
  if (token === "") return undefined;
  const dot = token.lastIndexOf(".");
  const text = token.slice(0, dot);
  if (dot <= 0 || !/^[A-Za-z0-9_-]+$/.test(text) || token.slice(dot + 1) !== pageTokenCheck(text)) {
    throw new InvalidRequestError("page_token: not a page token from a previous page");
  }
  return Buffer.from(text, "base64url");
}

const pageTokenCheck = (text: string) => createHash("sha256").update(text).digest("base64url").slice(0, 8);

/** The workflow's arguments from the request's JSON input (checked against the type already). */
function argsOf(type: WorkflowTypeDefinition, input: JsonValue | undefined): unknown[] {
  if (input === undefined) return [];
  return type.args === "spread" ? (input as JsonValue[]) : [input];
}
