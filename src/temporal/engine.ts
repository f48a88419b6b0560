// The WorkflowEngine of the workflow operations, on @temporalio/client: SDK calls and conversions only.
// Every call runs under the RPC's signal, so a client that goes away or runs out of time stops it.
import { randomUUID } from "node:crypto";
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
} from "@temporalio/client";
// A CommonJS module: its namespace is only reachable as the default export under Node ESM.
import protos from "@temporalio/proto";
import {
  WorkflowAlreadyStartedError,
  type RunDescription,
  type RunOutcome,
  type RunRef,
  type StartSpec,
  type WorkflowEngine,
} from "../operations/index.js";
import type { TemporalClient } from "./connection.js";
import { statusOfFailure, toFailureInfo } from "./failures.js";

/** A poller seen within this long counts as polling (Temporal keeps pollers listed for a few minutes). */
const POLLER_FRESH_MS = 70_000;

export class TemporalEngine implements WorkflowEngine {
  constructor(private readonly temporal: TemporalClient) {}

  async start(spec: StartSpec, signal: AbortSignal): Promise<{ workflowId: string; runId: string }> {
    try {
      const handle = await this.within(signal, () =>
        this.temporal.client.workflow.start(spec.workflowType, {
          workflowId: spec.workflowId,
          taskQueue: spec.taskQueue,
          args: [...spec.args],
          memo: spec.memo === undefined ? undefined : { ...spec.memo },
          workflowIdReusePolicy: spec.idReusePolicy,
          workflowExecutionTimeout: spec.executionTimeoutMs,
          workflowRunTimeout: spec.runTimeoutMs,
          workflowTaskTimeout: spec.taskTimeoutMs,
        }),
      );
      return { workflowId: spec.workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new WorkflowAlreadyStartedError(spec.workflowId, err);
      throw err;
    }
  }

  async describe(ref: RunRef, signal: AbortSignal): Promise<RunDescription> {
    return this.within(signal, async () => toRunDescription(await this.handle(ref).describe()));
  }

  async findLatest(workflowId: string, signal: AbortSignal): Promise<RunDescription | undefined> {
    try {
      return await this.describe({ workflowId, runId: "" }, signal);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  async awaitOutcome(run: RunRef, follow: boolean, signal: AbortSignal): Promise<RunOutcome> {
    return this.within(signal, async () => {
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

  async cancel(run: RunRef, reason: string, signal: AbortSignal): Promise<void> {
    // The SDK's handle.cancel() cannot carry a reason; the service call can.
    await this.within(signal, () =>
      this.temporal.client.workflowService.requestCancelWorkflowExecution({
        namespace: this.temporal.namespace,
        workflowExecution: { workflowId: run.workflowId, runId: run.runId },
        identity: this.temporal.client.options.identity,
        requestId: randomUUID(),
        reason,
      }),
    );
  }

  async terminate(run: RunRef, reason: string, signal: AbortSignal): Promise<void> {
    await this.within(signal, () => this.handle(run).terminate(reason));
  }

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

  private within<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return this.temporal.connection.withAbortSignal(signal, fn);
  }

  private handle(ref: RunRef) {
    return this.temporal.client.workflow.getHandle(ref.workflowId, ref.runId || undefined, { followRuns: false });
  }
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
