// WorkflowService: proto in, workflow operation, proto out. Input rules live in the proto (protovalidate) and
// the registry (JSON Schemas), enforced before Temporal is called; errors are mapped by the error interceptor.
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampFromDate, ValueSchema, type Duration, type Value } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  WorkflowArgs,
  WorkflowFailureSchema,
  WorkflowIdReusePolicy,
  WorkflowStatus,
  WorkflowTypeSchema,
  type WorkflowFailure,
  type WorkflowHandler,
  type WorkflowType,
} from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import type { RunWorkflowRequest, StartWorkflowRequest, WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { callBound, type CallBound, type FailureInfo, type RunOutcome, type StartRequest, type WorkflowOperations, type WorkflowStatusName } from "../operations/index.js";
import type { HandlerDefinition, IdReusePolicy, JsonSchema, WorkflowTypeDefinition } from "../registry/index.js";

export function createWorkflowService(operations: WorkflowOperations): ServiceImpl<typeof WorkflowService> {
  return {
    async startWorkflow(req, ctx) {
      return operations.start(startRequest(req), boundOf(ctx));
    },

    async runWorkflow(req, ctx) {
      return outcomeToProto(await operations.run(startRequest(req), boundOf(ctx)));
    },

    async getWorkflowStatus(req, ctx) {
      const d = await operations.status({ workflowId: req.workflowId, runId: req.runId }, boundOf(ctx));
      return {
        workflowId: d.workflowId,
        runId: d.runId,
        workflowType: d.workflowType,
        taskQueue: d.taskQueue,
        status: STATUS_TO_PROTO[d.status],
        startTime: timestampFromDate(d.startTime),
        closeTime: d.closeTime ? timestampFromDate(d.closeTime) : undefined,
        historyLength: d.historyLength,
      };
    },

    async getWorkflowResult(req, ctx) {
      const outcome = await operations.result({ workflowId: req.workflowId, runId: req.runId }, waitMs(req.wait), boundOf(ctx));
      return outcomeToProto(outcome);
    },

    async stopWorkflow(req, ctx) {
      return operations.stop(
        { workflowId: req.workflowId, runId: req.runId, terminate: req.terminate, reason: req.reason },
        boundOf(ctx),
      );
    },

    async listWorkflowTypes() {
      const { registry } = operations;
      return { workflowTypes: registry.list().map((t) => typeToProto(t, operations)), allowUnregistered: registry.allowUnregistered };
    },

    async getWorkflowType(req) {
      return { workflowType: typeToProto(operations.registry.get(req.name), operations) };
    },
  };
}

/** The call's signal and deadline (grpc-timeout, connect-timeout-ms), which Temporal's calls inherit. */
function boundOf(ctx: HandlerContext): CallBound {
  return callBound(ctx.signal, ctx.timeoutMs());
}

function typeToProto(t: WorkflowTypeDefinition, operations: WorkflowOperations): WorkflowType {
  const ms = (value: number | undefined) => (value === undefined ? undefined : durationFromMs(value));
  return create(WorkflowTypeSchema, {
    name: t.name,
    description: t.description,
    taskQueue: operations.taskQueueOf(t),
    inputSchema: schemaToProto(t.input),
    resultSchema: schemaToProto(t.result),
    args: t.args === "spread" ? WorkflowArgs.SPREAD : WorkflowArgs.SINGLE,
    signals: t.signals.map(handlerToProto),
    queries: t.queries.map(handlerToProto),
    updates: t.updates.map(handlerToProto),
    defaults: {
      executionTimeout: ms(t.defaults.executionTimeoutMs),
      runTimeout: ms(t.defaults.runTimeoutMs),
      taskTimeout: ms(t.defaults.taskTimeoutMs),
      idReusePolicy: t.defaults.idReusePolicy === undefined ? WorkflowIdReusePolicy.UNSPECIFIED : ID_REUSE_TO_PROTO[t.defaults.idReusePolicy],
    },
  });
}

function handlerToProto(h: HandlerDefinition): Omit<WorkflowHandler, "$typeName"> {
  return { name: h.name, description: h.description, inputSchema: schemaToProto(h.input), resultSchema: schemaToProto(h.result) };
}

function schemaToProto(schema: JsonSchema | undefined): Value | undefined {
  return schema === undefined ? undefined : fromJson(ValueSchema, schema);
}

const ID_REUSE_TO_PROTO: Readonly<Record<IdReusePolicy, WorkflowIdReusePolicy>> = {
  ALLOW_DUPLICATE: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  ALLOW_DUPLICATE_FAILED_ONLY: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
  REJECT_DUPLICATE: WorkflowIdReusePolicy.REJECT_DUPLICATE,
};

function startRequest(req: StartWorkflowRequest | RunWorkflowRequest): StartRequest {
  return {
    workflowType: req.workflowType,
    workflowId: req.workflowId,
    taskQueue: req.taskQueue,
    input: req.input === undefined ? undefined : valueToJson(req.input, "input"),
    requestId: req.requestId,
  };
}

function waitMs(wait: Duration | undefined): number {
  return wait === undefined ? 0 : Number(durationMs(wait));
}

/**
 * A client's google.protobuf.Value as JSON. A binary client can send what JSON cannot hold (NaN, Infinity,
 * a Value with no kind); that is the client's mistake, named with its path, not a server failure.
 */
function valueToJson(value: Value, field: string): JsonValue {
  const problem = unrepresentable(value, field);
  if (problem !== undefined) throw new ConnectError(problem, Code.InvalidArgument);
  return toJson(ValueSchema, value);
}

/** Where `value` holds something JSON cannot, in words; undefined when it is all JSON. */
function unrepresentable(value: Value, path: string): string | undefined {
  const { kind } = value;
  switch (kind.case) {
    case undefined:
      return `${path}: a google.protobuf.Value with no kind set is not a JSON value`;
    case "numberValue":
      return Number.isFinite(kind.value) ? undefined : `${path}: ${kind.value} is not a JSON number (numbers must be finite)`;
    case "listValue":
      for (const [i, item] of kind.value.values.entries()) {
        const problem = unrepresentable(item, `${path}[${i}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    case "structValue":
      for (const [key, item] of Object.entries(kind.value.fields)) {
        const problem = unrepresentable(item, `${path}.${key}`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    default:
      return undefined;
  }
}

function outcomeToProto(o: RunOutcome) {
  return {
    workflowId: o.workflowId,
    runId: o.runId,
    status: STATUS_TO_PROTO[o.status],
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
