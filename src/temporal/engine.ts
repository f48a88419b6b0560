// The WorkflowEngine of the workflow operations, on @temporalio/client: SDK calls and conversions only.
// Every call runs under the RPC's signal, so a client that goes away or runs out of time stops it.
import { randomUUID } from "node:crypto";
import {
  type Client,
  QueryNotRegisteredError,
  QueryRejectedError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
} from "@temporalio/client";
import { encodeWorkflowIdConflictPolicy, encodeWorkflowIdReusePolicy, type Payload } from "@temporalio/common";
import { msOptionalToTs } from "@temporalio/common/lib/time.js";
// A CommonJS module: its namespace is only reachable as the default export under Node ESM.
import protos from "@temporalio/proto";
import {
  InvalidRequestError,
  QueryFailedError,
  UpdateFailedError,
  settledBy,
  WorkflowAlreadyStartedError,
  type CallBound,
  type Page,
  type PendingActivityInfo,
  type ReadableEvent,
  type RetrySpec,
  type RunDescription,
  type RunOutcome,
  type RunRef,
  type RunSummary,
  type StartSpec,
  type WatchEvent,
  type WorkflowEngine,
} from "../operations/index.js";
import { endFailed, SpanKind, TEMPORAL_TRACE_HEADER, Tracing } from "../observability/index.js";
import type { NativeConnection } from "@temporalio/worker/lib/connection.js";
import type { TemporalClient } from "./connection.js";
import { grpcStatusOf } from "./errors.js";
import { statusOfFailure, toFailureInfo } from "./failures.js";
import { memoInputRequest, memoProgress, readableEvent, WatchDecoder } from "./history.js";

/** A poller seen within this long counts as polling (Temporal keeps pollers listed for a few minutes). */
const POLLER_FRESH_MS = 70_000;

/** google.rpc.Code UNKNOWN. */
const GRPC_UNKNOWN = 2;

export class TemporalEngine implements WorkflowEngine {
  /** `tracing`: when set, starts and signals get a client span, carried to the workflow in its headers. */
  constructor(
    private readonly temporal: TemporalClient,
    private readonly tracing?: Tracing,
  ) {}

  /**
   * `send` under a client span named `name`, child of the bound's trace, with the span's context in the
   * Temporal headers it is given (`_tracer-data`, as the SDK's OpenTelemetry interceptors write it). Without
   * tracing, or without a trace, `send` gets no headers.
   */
  private async traced<T>(name: string, spec: { workflowId: string }, bound: CallBound, send: (header: { fields: Record<string, Payload> } | undefined) => Promise<T>): Promise<T> {
    if (this.tracing === undefined || bound.trace === undefined) return send(undefined);
    const { span, context } = this.tracing.start(name, SpanKind.CLIENT, bound.trace, { temporalWorkflowId: spec.workflowId });
    try {
      const result = await send({ fields: { [TEMPORAL_TRACE_HEADER]: this.toPayload(Tracing.inject(context)) } });
      span.end();
      return result;
    } catch (err) {
      endFailed(span, err);
      throw err;
    }
  }

  /**
   * StartWorkflowExecution itself rather than the SDK's `workflow.start()`, for its `request_id`: Temporal
   * keys a start on it, so retries of one request make one run however they race. (The SDK sets a fresh
   * one per call and has no public option for it.) It also skips the handle the SDK would build.
   */
  async start(spec: StartSpec, bound: CallBound): Promise<{ workflowId: string; runId: string }> {
    const request = this.startRequest(spec);
    try {
      const res = await this.traced(`StartWorkflow:${spec.workflowType}`, spec, bound, (header) =>
        this.unary(bound, (c) => c.workflowService.startWorkflowExecution({ ...request, header })),
      );
      return { workflowId: spec.workflowId, runId: res.runId };
    } catch (err) {
      throw alreadyStarted(spec, err);
    }
  }

  async signalWithStart(
    spec: StartSpec,
    signal: { name: string; args: readonly unknown[] },
    bound: CallBound,
  ): Promise<{ runId: string; started: boolean }> {
    const request = {
      ...this.startRequest(spec),
      signalName: signal.name,
      signalInput: { payloads: signal.args.map((a) => this.toPayload(a)) },
    };
    try {
      const res = await this.traced(`SignalWithStartWorkflow:${spec.workflowType}`, spec, bound, (header) =>
        this.unary(bound, (c) => c.workflowService.signalWithStartWorkflowExecution({ ...request, header })),
      );
      return { runId: res.runId, started: res.started ?? false };
    } catch (err) {
      throw alreadyStarted(spec, err);
    }
  }

  async signal(ref: RunRef, name: string, args: readonly unknown[], requestId: string | undefined, bound: CallBound): Promise<void> {
    await this.traced(`SignalWorkflow:${name}`, ref, bound, (header) =>
      this.unary(bound, (c) =>
        c.workflowService.signalWorkflowExecution({
          namespace: this.temporal.namespace,
          workflowExecution: { workflowId: ref.workflowId, runId: ref.runId },
          signalName: name,
          input: { payloads: args.map((a) => this.toPayload(a)) },
          identity: this.temporal.client.options.identity,
          requestId: requestId ?? randomUUID(),
          header,
        }),
      ),
    );
  }

  async query(ref: RunRef, name: string, args: readonly unknown[], bound: CallBound): Promise<unknown> {
    try {
      return await this.unary(bound, (c) => handleOf(c, ref).query(name, ...args));
    } catch (err) {
      if (err instanceof QueryNotRegisteredError) throw new QueryFailedError(name, err.message, err);
      if (err instanceof QueryRejectedError) throw new QueryFailedError(name, `rejected: the run is ${String(err.status)}`, err);
      throw err;
    }
  }

  async update(ref: RunRef, name: string, args: readonly unknown[], updateId: string, bound: CallBound): Promise<unknown> {
    // Over grpc-js, whose calls a client's cancel can stop: an update waits for the workflow.
    try {
      return await this.within(bound, () => handleOf(this.temporal.client, ref).executeUpdate(name, { args: [...args] as [unknown], updateId }));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const reason = err.cause instanceof Error ? err.cause.message : err.message;
        throw new UpdateFailedError(name, reason, err);
      }
      throw err;
    }
  }

  async list(query: string, pageSize: number, pageToken: Uint8Array | undefined, bound: CallBound): Promise<Page<RunSummary>> {
    const page = await this.unary(bound, (c) =>
      c.workflowService.listWorkflowExecutions({ namespace: this.temporal.namespace, query, pageSize, nextPageToken: pageToken }),
    ).catch((err: unknown) => {
      // Temporal's SQL visibility answers a token it cannot read with UNKNOWN ("something went wrong"), not
      // INVALID_ARGUMENT as history does; with a caller's token in the call, that token is the likely cause.
      if (pageToken !== undefined && grpcStatusOf(err).code === GRPC_UNKNOWN) {
        throw new InvalidRequestError("page_token: not a page token from a previous page of this listing");
      }
      throw err;
    });
    return {
      items: (page.executions ?? []).map((info) => this.toRunSummary(info)),
      nextPageToken: page.nextPageToken?.length ? page.nextPageToken : undefined,
    };
  }

  async count(query: string, bound: CallBound): Promise<number> {
    const res = await this.unary(bound, (c) => c.workflowService.countWorkflowExecutions({ namespace: this.temporal.namespace, query }));
    return Number(res.count ?? 0);
  }

  async history(ref: RunRef, pageSize: number, pageToken: Uint8Array | undefined, bound: CallBound): Promise<Page<ReadableEvent>> {
    const res = await this.unary(bound, (c) =>
      c.workflowService.getWorkflowExecutionHistory({
        namespace: this.temporal.namespace,
        execution: { workflowId: ref.workflowId, runId: ref.runId },
        maximumPageSize: pageSize,
        nextPageToken: pageToken,
      }),
    );
    const converter = this.temporal.client.options.loadedDataConverter;
    return {
      items: (res.history?.events ?? []).map((e) => readableEvent(e, converter)),
      nextPageToken: res.nextPageToken?.length ? res.nextPageToken : undefined,
    };
  }

  async *watchRun(ref: RunRef, signal: AbortSignal): AsyncIterable<WatchEvent> {
    const converter = this.temporal.client.options.loadedDataConverter;
    const decoder = new WatchDecoder(ref.runId, converter);
    let nextPageToken: Uint8Array | undefined;
    for (;;) {
      // A long poll over grpc-js, cancelled by the signal: Temporal answers when the run has new events (or
      // empty, after its own poll timeout), and with no next page once the run has closed.
      const res = await this.within({ signal, deadline: undefined }, () =>
        this.temporal.client.workflowService.getWorkflowExecutionHistory({
          namespace: this.temporal.namespace,
          execution: { workflowId: ref.workflowId, runId: ref.runId },
          nextPageToken,
          waitNewEvent: true,
          historyEventFilterType: protos.temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT,
        }),
      );
      for (const event of res.history?.events ?? []) yield* decoder.decode(event);
      if (!res.nextPageToken?.length) return;
      nextPageToken = res.nextPageToken;
    }
  }

  async describe(ref: RunRef, bound: CallBound): Promise<RunDescription> {
    return this.unary(bound, async (c) => this.toRunDescription(await handleOf(c, ref).describe()));
  }

  async findLatest(workflowId: string, bound: CallBound): Promise<RunDescription | undefined> {
    try {
      return await this.describe({ workflowId, runId: "" }, bound);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  async *listRuns(workflowId: string, limit: number, bound: CallBound): AsyncIterable<RunSummary> {
    const query = `WorkflowId = "${workflowId.replace(/[\\"]/g, "\\$&")}"`;
    let nextPageToken: Uint8Array | undefined;
    let seen = 0;
    do {
      const page = await this.list(query, Math.min(100, limit - seen), nextPageToken, bound);
      for (const run of page.items) {
        if (seen++ >= limit) return;
        yield run;
      }
      nextPageToken = page.nextPageToken;
    } while (nextPageToken !== undefined && seen < limit);
  }


  async awaitOutcome(run: RunRef, follow: boolean, bound: CallBound): Promise<RunOutcome> {
    // A long poll under a gRPC deadline spins: Temporal answers it at once, empty, while the deadline is
    // near (its last second or so), and the SDK polls again, hundreds of times a second. The bound's
    // signal alone ends the wait, cancelling the poll.
    return this.within({ signal: bound.signal, deadline: undefined }, async () => {
      const workflow = this.temporal.client.workflow;
      const handle = workflow.getHandle(run.workflowId, run.runId || undefined, { followRuns: follow });
      const finalRun = async (): Promise<RunRef> =>
        follow ? { workflowId: run.workflowId, runId: (await workflow.getHandle(run.workflowId).describe()).runId } : run;
      try {
        const value: unknown = await handle.result();
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
    });
  }

  async cancel(run: RunRef, reason: string, bound: CallBound): Promise<void> {
    // The SDK's handle.cancel() cannot carry a reason; the service call can.
    await this.unary(bound, (c) =>
      c.workflowService.requestCancelWorkflowExecution({
        namespace: this.temporal.namespace,
        workflowExecution: { workflowId: run.workflowId, runId: run.runId },
        identity: this.temporal.client.options.identity,
        requestId: randomUUID(),
        reason,
      }),
    );
  }

  async terminate(run: RunRef, reason: string, bound: CallBound): Promise<void> {
    await this.unary(bound, (c) => handleOf(c, run).terminate(reason));
  }

  async ready(timeoutMs: number): Promise<boolean> {
    // Readiness probes bring the native connection up before the first call needs it.
    this.temporal.native.client();
    try {
      await this.temporal.connection.withDeadline(Date.now() + timeoutMs, () =>
        this.temporal.client.workflowService.describeNamespace({ namespace: this.temporal.namespace }),
      );
      return true;
    } catch {
      return false;
    }
  }

  async hasWorkflowPoller(taskQueue: string, timeoutMs: number): Promise<boolean> {
    try {
      const res = await this.temporal.connection.withDeadline(Date.now() + timeoutMs, () =>
        this.temporal.client.workflowService.describeTaskQueue({
          namespace: this.temporal.namespace,
      taskQueue: { name: taskQueue, kind: protos.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: protos.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        }),
      );
      const now = Date.now();
      return (res.pollers ?? []).some((p) => {
        const seconds = Number(p.lastAccessTime?.seconds ?? 0);
        return seconds === 0 || now - seconds * 1000 < POLLER_FRESH_MS;
      });
    } catch {
      return false;
    }
  }

  /**
   * Runs `fn`'s Temporal calls under the bound: cancelled when its signal aborts, and with its deadline as
   * their gRPC deadline. The answer comes when the signal aborts even if the SDK has not settled yet: its
   * retry interceptor sleeps between attempts while Temporal is unreachable, and a cancel or a deadline is
   * only noticed when the next attempt starts, up to a second or more late.
   */
  private within<T>(bound: CallBound, fn: () => Promise<T>): Promise<T> {
    const { connection } = this.temporal;
    const { signal, deadline } = bound;
    // The SDK adds an abort listener to the signal for every gRPC call and never removes it, so a signal that
    // outlives many calls (a watched run's, one long poll after another) would gather one per call, each
    // holding its call. The SDK gets a signal of its own per call instead, dropped when the call settles.
    const own = new AbortController();
    const forward = () => own.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener("abort", forward, { once: true });
    const call = connection.withAbortSignal(own.signal, deadline === undefined ? fn : () => connection.withDeadline(deadline, fn));
    return settledBy(call, signal).finally(() => signal.removeEventListener("abort", forward));
  }

  private toPayload(value: unknown): Payload {
    return this.temporal.client.options.loadedDataConverter.payloadConverter.toPayload(value);
  }

  /** StartWorkflowExecution's request for a start; SignalWithStart takes the same fields and its signal. */
  private startRequest(spec: StartSpec) {
    const { client, namespace } = this.temporal;
    const toPayload = (value: unknown) => this.toPayload(value);
    return {
      namespace,
      identity: client.options.identity,
      requestId: spec.requestId ?? randomUUID(),
      workflowId: spec.workflowId,
      workflowType: { name: spec.workflowType },
      taskQueue: { kind: protos.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL, name: spec.taskQueue },
      input: { payloads: spec.args.map(toPayload) },
      memo: spec.memo === undefined ? undefined : { fields: mapValues(spec.memo, toPayload) },
      // Untyped: Temporal decodes each JSON value by the type the namespace registered for the attribute.
      searchAttributes: spec.searchAttributes === undefined ? undefined : { indexedFields: mapValues(spec.searchAttributes, toPayload) },
      workflowIdReusePolicy: encodeWorkflowIdReusePolicy(spec.idReusePolicy),
      workflowIdConflictPolicy: encodeWorkflowIdConflictPolicy(spec.idConflictPolicy),
      workflowExecutionTimeout: msOptionalToTs(spec.executionTimeoutMs),
      workflowRunTimeout: msOptionalToTs(spec.runTimeoutMs),
      workflowTaskTimeout: msOptionalToTs(spec.taskTimeoutMs),
      retryPolicy: spec.retry === undefined ? undefined : retryPolicyOf(spec.retry),
      workflowStartDelay: msOptionalToTs(spec.startDelayMs),
    };
  }

  private toRunSummary(info: protos.temporal.api.workflow.v1.IWorkflowExecutionInfo): RunSummary {
    return {
      workflowId: info.execution?.workflowId ?? "",
      runId: info.execution?.runId ?? "",
      workflowType: info.type?.name ?? "",
      taskQueue: info.taskQueue ?? "",
      status: statusName(info.status),
      startTime: dateOf(info.startTime),
      closeTime: dateOf(info.closeTime),
      historyLength: Number(info.historyLength ?? 0),
      memo: this.decodeMemo(info.memo?.fields),
    };
  }

  private toRunDescription(d: WorkflowExecutionDescription): RunDescription {
    const memo = d.memo ?? {};
    return {
      workflowId: d.workflowId,
      runId: d.runId,
      workflowType: d.type,
      taskQueue: d.taskQueue,
      status: d.status.name === "CANCELLED" ? "CANCELED" : d.status.name === "UNKNOWN" ? "UNSPECIFIED" : d.status.name,
      startTime: d.startTime,
      closeTime: d.closeTime,
      historyLength: d.historyLength,
      memo,
      pendingActivities: (d.raw.pendingActivities ?? []).map((a) => this.toPendingActivity(a)),
      progress: memoProgress(memo),
      inputRequest: memoInputRequest(memo),
    };
  }

  private toPendingActivity(a: protos.temporal.api.workflow.v1.IPendingActivityInfo): PendingActivityInfo {
    const { failureConverter, payloadConverter } = this.temporal.client.options.loadedDataConverter;
    const state = protos.temporal.api.enums.v1.PendingActivityState[a.state ?? 0] ?? "";
    return {
      activityId: a.activityId ?? "",
      activityType: a.activityType?.name ?? "",
      attempt: a.attempt ?? 0,
      state: state.replace("PENDING_ACTIVITY_STATE_", ""),
      lastFailure: a.lastFailure ? toFailureInfo(failureConverter.failureToError(a.lastFailure, payloadConverter)) : undefined,
      nextAttemptScheduleTime: dateOf(a.nextAttemptScheduleTime),
    };
  }

  private decodeMemo(fields: Record<string, protos.temporal.api.common.v1.IPayload> | null | undefined): Record<string, unknown> {
    const converter = this.temporal.client.options.loadedDataConverter.payloadConverter;
    return mapValues(fields ?? {}, (payload) => converter.fromPayload(payload));
  }

  /**
   * A unary call on the Rust core's client once it is connected (about half the gateway CPU of grpc-js),
   * on grpc-js until then.
   */
  private unary<T>(bound: CallBound, fn: (client: Client) => Promise<T>): Promise<T> {
    const native = this.temporal.native.client();
    if (native === undefined) return this.within(bound, () => fn(this.temporal.client));
    return withinNative(native.connection, bound, () => fn(native.client));
  }
}

/** A refused start as the operations' error, when the workflow id holds a run; other errors as they are. */
function alreadyStarted(spec: StartSpec, err: unknown): unknown {
  if (err instanceof WorkflowExecutionAlreadyStartedError || grpcStatusOf(err).code === ALREADY_EXISTS) {
    return new WorkflowAlreadyStartedError(spec.workflowId, err);
  }
  return err;
}

function retryPolicyOf(retry: RetrySpec): protos.temporal.api.common.v1.IRetryPolicy {
  return {
    initialInterval: msOptionalToTs(retry.initialIntervalMs),
    backoffCoefficient: retry.backoffCoefficient,
    maximumInterval: msOptionalToTs(retry.maximumIntervalMs),
    maximumAttempts: retry.maximumAttempts,
    nonRetryableErrorTypes: [...retry.nonRetryableErrorTypes],
  };
}

function dateOf(ts: protos.google.protobuf.ITimestamp | null | undefined): Date | undefined {
  if (ts === null || ts === undefined) return undefined;
  return new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

function handleOf(client: Client, ref: RunRef) {
  return client.workflow.getHandle(ref.workflowId, ref.runId || undefined, { followRuns: false });
}

const ALREADY_EXISTS = 6;

/**
 * The Rust core retries an unavailable Temporal by itself (for up to 10 s) and cannot be cancelled, so a
 * native call always has a deadline: the bound's, or this one.
 */
const NATIVE_DEFAULT_DEADLINE_MS = 30_000;

/** `within` for a native call: the bound's deadline is the call's gRPC deadline, and the answer comes when the signal aborts. */
function withinNative<T>(connection: NativeConnection, bound: CallBound, fn: () => Promise<T>): Promise<T> {
  const deadline = bound.deadline ?? Date.now() + NATIVE_DEFAULT_DEADLINE_MS;
  return settledBy(connection.withDeadline(deadline, fn), bound.signal);
}

function mapValues<T, U>(record: Readonly<Record<string, T>>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}

function statusName(status: protos.temporal.api.enums.v1.WorkflowExecutionStatus | null | undefined): RunSummary["status"] {
  const name = protos.temporal.api.enums.v1.WorkflowExecutionStatus[status ?? 0] ?? "WORKFLOW_EXECUTION_STATUS_UNSPECIFIED";
  const short = name.replace("WORKFLOW_EXECUTION_STATUS_", "");
  return short === "CANCELED" || short === "CANCELLED" ? "CANCELED" : (short as RunSummary["status"]);
}
