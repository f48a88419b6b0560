// WorkflowService: proto in, domain call, proto out. Input rules live in the proto (protovalidate) and are
// enforced by the validation interceptor before these run; errors are mapped by the error interceptor.
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { durationMs, timestampFromDate, ValueSchema, type Duration, type Value } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  WorkflowFailureSchema,
  WorkflowStatus,
  type WorkflowFailure,
} from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import type {
  RunWorkflowRequest,
  StartWorkflowRequest,
  WorkflowService,
} from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import type { WorkflowRegistry } from "../registry/index.js";
import type {
  FailureInfo,
  RunOutcome,
  StartInput,
  WorkflowOperations,
  WorkflowStatusName,
} from "../temporal/index.js";

export interface WorkflowServiceDeps {
  readonly operations: WorkflowOperations;
  readonly registry: WorkflowRegistry;
  /** Task queue for workflow types that name none. */
  readonly defaultTaskQueue: string;
  /** Bound of RunWorkflow when the call carries no deadline. */
  readonly runTimeoutMs: number;
}

export function createWorkflowService(deps: WorkflowServiceDeps): ServiceImpl<typeof WorkflowService> {
  const { operations, registry } = deps;

  const startInput = (req: StartWorkflowRequest | RunWorkflowRequest): StartInput => {
    const info = registry.require(req.workflowType);
    const input = req.input === undefined ? undefined : valueToJson(req.input);
    return {
      workflowType: info.name,
      workflowId: req.workflowId,
      taskQueue: req.taskQueue || info.taskQueue || deps.defaultTaskQueue,
      args: registry.argsFor(info, input),
      requestId: req.requestId,
    };
  };

  return {
    async startWorkflow(req, ctx) {
      return operations.start(startInput(req), ctx.signal);
    },

    async runWorkflow(req, ctx) {
      const outcome = await operations.run(startInput(req), boundedSignal(ctx, deps.runTimeoutMs));
      return outcomeToProto(outcome);
    },

    async getWorkflowStatus(req, ctx) {
      const d = await operations.describe({ workflowId: req.workflowId, runId: req.runId }, ctx.signal);
      return {
        workflowId: d.workflowId,
        runId: d.runId,
        workflowType: d.workflowType,
        taskQueue: d.taskQueue,
        status: statusToProto(d.status),
        startTime: timestampFromDate(d.startTime),
        closeTime: d.closeTime ? timestampFromDate(d.closeTime) : undefined,
        historyLength: d.historyLength,
      };
    },

    async getWorkflowResult(req, ctx) {
      const outcome = await operations.result(
        { workflowId: req.workflowId, runId: req.runId },
        waitMs(req.wait),
        ctx.signal,
      );
      return outcomeToProto(outcome);
    },

    async stopWorkflow(req, ctx) {
      return operations.stop(
        { workflowId: req.workflowId, runId: req.runId, terminate: req.terminate, reason: req.reason },
        ctx.signal,
      );
    },
  };
}

/** The call's own signal, or one bounded by `fallbackMs` when the client set no deadline. */
function boundedSignal(ctx: HandlerContext, fallbackMs: number): AbortSignal {
  return ctx.timeoutMs() === undefined ? AbortSignal.any([ctx.signal, AbortSignal.timeout(fallbackMs)]) : ctx.signal;
}

function waitMs(wait: Duration | undefined): number {
  return wait === undefined ? 0 : Number(durationMs(wait));
}

function valueToJson(value: Value): JsonValue {
  return toJson(ValueSchema, value);
}

function outcomeToProto(o: RunOutcome) {
  return {
    workflowId: o.workflowId,
    runId: o.runId,
    status: statusToProto(o.status),
    outcome:
      o.outcome === undefined
        ? undefined
        : o.outcome.kind === "result"
          ? { case: "result" as const, value: fromJson(ValueSchema, toJsonValue(o.outcome.value)) }
          : { case: "failure" as const, value: failureToProto(o.outcome.failure) },
  };
}

/** A workflow's return value as JSON; `undefined` (a workflow that returns nothing) becomes null. */
function toJsonValue(value: unknown): JsonValue {
  return value === undefined ? null : (value as JsonValue);
}

function failureToProto(f: FailureInfo): WorkflowFailure {
  return create(WorkflowFailureSchema, {
    message: f.message,
    type: f.type,
    stackTrace: f.stackTrace,
    cause: f.cause ? failureToProto(f.cause) : undefined,
  });
}

const STATUS_TO_PROTO: Readonly<Record<WorkflowStatusName, WorkflowStatus>> = {
  UNSPECIFIED: WorkflowStatus.UNSPECIFIED,
  RUNNING: WorkflowStatus.RUNNING,
  COMPLETED: WorkflowStatus.COMPLETED,
  FAILED: WorkflowStatus.FAILED,
  CANCELED: WorkflowStatus.CANCELED,
  TERMINATED: WorkflowStatus.TERMINATED,
  CONTINUED_AS_NEW: WorkflowStatus.CONTINUED_AS_NEW,
  TIMED_OUT: WorkflowStatus.TIMED_OUT,
  PAUSED: WorkflowStatus.PAUSED,
};

function statusToProto(status: WorkflowStatusName): WorkflowStatus {
  return STATUS_TO_PROTO[status];
}
