// The WorkflowEngine of the workflow operations, on @temporalio/client: SDK calls and conversions only.
// Every call runs under the RPC's signal, so a client that goes away or runs out of time stops it.
import { randomUUID } from "node:crypto";
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
} from "@temporalio/client";
import { encodeWorkflowIdReusePolicy, type Payload } from "@temporalio/common";
import { msOptionalToTs } from "@temporalio/common/lib/time.js";
// A CommonJS module: its namespace is only reachable as the default export under Node ESM.
import protos from "@temporalio/proto";
import {
  WorkflowAlreadyStartedError,
  type CallBound,
  type RunDescription,
  type RunOutcome,
  type RunRef,
  type RunSummary,
  type StartSpec,
  type WorkflowEngine,
} from "../operations/index.js";
import type { NativeConnection } from "@temporalio/worker/lib/connection.js";
import type { TemporalClient } from "./connection.js";
import { grpcStatusOf } from "./errors.js";
import { statusOfFailure, toFailureInfo } from "./failures.js";

/** A poller seen within this long counts as polling (Temporal keeps pollers listed for a few minutes). */
const POLLER_FRESH_MS = 70_000;

export class TemporalEngine implements WorkflowEngine {
  constructor(private readonly temporal: TemporalClient) {}

  /**
   * StartWorkflowExecution itself rather than the SDK's `workflow.start()`, for its `request_id`: Temporal
   * keys a start on it, so retries of one request make one run however they race. (The SDK sets a fresh
   * one per call and has no public option for it.) It also skips the handle the SDK would build.
   */
  async start(spec: StartSpec, bound: CallBound): Promise<{ workflowId: string; runId: string }> {
    const { client, namespace } = this.temporal;
    const converter = client.options.loadedDataConverter.payloadConverter;
    const toPayload = (value: unknown): Payload => converter.toPayload(value);
    const request = {
      namespace,
      identity: client.options.identity,
      requestId: spec.requestId ?? randomUUID(),
      workflowId: spec.workflowId,
      workflowType: { name: spec.workflowType },
      taskQueue: { kind: protos.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL, name: spec.taskQueue },
      input: { payloads: spec.args.map(toPayload) },
      memo: spec.memo === undefined ? undefined : { fields: mapValues(spec.memo, toPayload) },
      workflowIdReusePolicy: encodeWorkflowIdReusePolicy(spec.idReusePolicy),
      workflowExecutionTimeout: msOptionalToTs(spec.executionTimeoutMs),
      workflowRunTimeout: msOptionalToTs(spec.runTimeoutMs),
      workflowTaskTimeout: msOptionalToTs(spec.taskTimeoutMs),
    };
    try {
      const res = await this.unary(bound, (c) => c.workflowService.startWorkflowExecution(request));
      return { workflowId: spec.workflowId, runId: res.runId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError || grpcStatusOf(err).code === ALREADY_EXISTS) {
        throw new WorkflowAlreadyStartedError(spec.workflowId, err);
      }
      throw err;
    }
  }

  async describe(ref: RunRef, bound: CallBound): Promise<RunDescription> {
    return this.unary(bound, async (c) => toRunDescription(await handleOf(c, ref).describe()));
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
      const page = await this.unary(bound, (c) =>
        c.workflowService.listWorkflowExecutions({
          namespace: this.temporal.namespace,
          query,
          pageSize: Math.min(100, limit - seen),
          nextPageToken,
        }),
      );
      for (const info of page.executions ?? []) {
        if (seen++ >= limit) return;
        yield {
          runId: info.execution?.runId ?? "",
          status: statusName(info.status),
      memo: this.decodeMemo(info.memo?.fields),
        };
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
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
    const call = connection.withAbortSignal(signal, deadline === undefined ? fn : () => connection.withDeadline(deadline, fn));
    return settledBy(call, signal);
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

/** `promise`, or a rejection with the signal's reason as soon as it aborts (the promise's own end is then ignored). */
function settledBy<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function mapValues<T, U>(record: Readonly<Record<string, T>>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}

function statusName(status: protos.temporal.api.enums.v1.WorkflowExecutionStatus | null | undefined): RunSummary["status"] {
  const name = protos.temporal.api.enums.v1.WorkflowExecutionStatus[status ?? 0] ?? "WORKFLOW_EXECUTION_STATUS_UNSPECIFIED";
  const short = name.replace("WORKFLOW_EXECUTION_STATUS_", "");
  return short === "CANCELED" || short === "CANCELLED" ? "CANCELED" : (short as RunSummary["status"]);
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
    memo: d.memo ?? {},
  };
}
