// WorkflowService: proto in, workflow operation, proto out. Input rules live in the proto (protovalidate) and
// the registry (JSON Schemas), enforced before Temporal is called; errors are mapped by the error interceptor.
import { create, fromJson, type JsonObject } from "@bufbuild/protobuf";
import {
  durationFromMs,
  durationMs,
  timestampDate,
  timestampFromDate,
  ValueSchema,
  type Duration,
  type Timestamp,
  type Value,
} from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  WorkflowArgs,
  WorkflowEventType,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowStatus,
  WorkflowTypeSchema,
  type InputRequest,
  type Progress,
  type StartOptions as StartOptionsProto,
  type WorkflowHandler,
  type WorkflowType,
} from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import type {
  CountWorkflowsRequest,
  ListWorkflowsRequest,
  RunWorkflowRequest,
  SignalWithStartRequest,
  StartWorkflowRequest,
  WatchWorkflowResponse,
  WorkflowService,
} from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import {
  callBound,
  type CallBound,
  type IdConflictPolicy,
  type InputRequestInfo,
  type ProgressInfo,
  type RunFilter,
  type RunSummary,
  type StartOptions,
  type StartRequest,
  type WatchEvent,
  type WatchEventType,
  type WorkflowOperations,
  type WorkflowStatusName,
} from "../operations/index.js";
import type { HandlerDefinition, IdReusePolicy, JsonSchema, WorkflowTypeDefinition } from "../registry/index.js";
import { kCall } from "../server/index.js";
import { passThrough } from "../server/iterables.js";
import type { CompletionCallbacks } from "../callbacks/index.js";
import { InvalidUploadError, type FileStore } from "../files/index.js";
import type { HandlerHooks, HookName } from "../handler/index.js";
import { checkedObject, jsonToValue, optionalJson, valueToJson } from "./json.js";
import { failureToProto, outcomeToProto, STATUS_TO_PROTO } from "./outcome.js";

export function createWorkflowService(
  operations: WorkflowOperations,
  hooks: HandlerHooks,
  files: FileStore,
  callbacks: CompletionCallbacks,
): ServiceImpl<typeof WorkflowService> {
  /** Calls one of the application's handler hooks with the request's payload. */
  const callHook = async (hook: HookName, payload: JsonObject | undefined, ctx: HandlerContext) => {
    const answer = await hooks.call(hook, { payload: checkedObject(payload ?? {}, "payload"), signal: ctx.signal });
    return { success: answer.success, message: answer.message, data: jsonToValue(answer.data, true) };
  };
  return {
    testAuth: (req, ctx) => callHook("testAuth", req.payload, ctx),
    fetchMetadata: (req, ctx) => callHook("fetchMetadata", req.payload, ctx),
    preflightCheck: (req, ctx) => callHook("preflightCheck", req.payload, ctx),

    async uploadFile(requests, ctx) {
      const messages = requests[Symbol.asyncIterator]();
      const first = await messages.next();
      if (first.done === true || first.value.part.case !== "info") {
        throw new InvalidUploadError("info: the first message of an upload must carry the file's info (filename, content_type)");
      }
      const info = first.value.part.value;
      const chunks = async function* () {
        for (let next = await messages.next(); next.done !== true; next = await messages.next()) {
          if (next.value.part.case !== "chunk") throw new InvalidUploadError("chunk: every message after the first must carry a chunk of the file");
          yield next.value.part.value;
        }
      };
      try {
        const stored = await files.put({ filename: info.filename, contentType: info.contentType }, chunks(), ctx.signal);
        return { ...stored, size: BigInt(stored.size) };
      } catch (err) {
        // Refused before the end (too large, a bad message): read on and drop what the client still sends,
        // for a bounded time, so the stream ends normally and the client reads the refusal. A stream left
        // unread stays half open, the client blocked on flow control, and holds up the server's close.
        await drain(messages, 5000);
        throw err;
      }
    },

    async startWorkflow(req, ctx) {
      const callbackUrl = req.callback?.url;
      // A URL that may not be called is refused before the run starts.
      if (callbackUrl !== undefined) callbacks.check(callbackUrl);
      const bound = boundOf(ctx);
      const { workflowId, runId } = await operations.start(startRequest(req, ctx), bound);
      // Registered after the start: a failure here (Temporal gone) fails the call, and the client's retry
      // with the same request_id finds the run and registers its one delivery.
      if (callbackUrl !== undefined) await callbacks.register({ workflowId, runId }, callbackUrl, bound);
      return { workflowId, runId };
    },

    async runWorkflow(req, ctx) {
      return outcomeToProto(await operations.run(startRequest(req, ctx), boundOf(ctx)));
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
        pendingActivities: d.pendingActivities.map((a) => ({
          activityId: a.activityId,
          activityType: a.activityType,
          attempt: a.attempt,
          state: a.state,
          lastFailure: a.lastFailure ? failureToProto(a.lastFailure) : undefined,
          nextAttemptScheduleTime: a.nextAttemptScheduleTime ? timestampFromDate(a.nextAttemptScheduleTime) : undefined,
        })),
        progress: progressToProto(d.progress),
        waitingForInput: inputRequestToProto(d.inputRequest),
        memo: memoToProto(d.memo),
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

    async signalWorkflow(req, ctx) {
      const input = optionalJson(req.input, "input");
      return operations.signal({ workflowId: req.workflowId, runId: req.runId, name: req.signalName, input, requestId: req.requestId }, boundOf(ctx));
    },

    async queryWorkflow(req, ctx) {
      const input = optionalJson(req.input, "input");
      const { run, result } = await operations.query({ workflowId: req.workflowId, runId: req.runId, name: req.queryName, input }, boundOf(ctx));
      return { ...run, result: jsonToValue(result) };
    },

    async updateWorkflow(req, ctx) {
      const input = optionalJson(req.input, "input");
      const { run, updateId, result } = await operations.update(
        { workflowId: req.workflowId, runId: req.runId, name: req.updateName, input, requestId: req.requestId },
        boundOf(ctx),
      );
      return { ...run, updateId, result: jsonToValue(result) };
    },

    async signalWithStart(req: SignalWithStartRequest, ctx) {
      return operations.signalWithStart(
        { ...startRequest(req, ctx), signalName: req.signalName, signalInput: optionalJson(req.signalInput, "signal_input") },
        boundOf(ctx),
      );
    },

    async listWorkflows(req, ctx) {
      const { runs, nextPageToken } = await operations.list(filterOf(req), req.pageSize, req.pageToken, boundOf(ctx));
      return { workflows: runs.map(summaryToProto), nextPageToken };
    },

    async countWorkflows(req, ctx) {
      return { count: BigInt(await operations.count(filterOf(req), boundOf(ctx))) };
    },

    async getWorkflowHistory(req, ctx) {
      const { run, events, nextPageToken } = await operations.history(
        { workflowId: req.workflowId, runId: req.runId },
        req.pageSize,
        req.pageToken,
        boundOf(ctx),
      );
      return {
        ...run,
        events: events.map((e) => ({
          eventId: BigInt(e.eventId),
          eventTime: e.eventTime === undefined ? undefined : timestampFromDate(e.eventTime),
          eventType: e.eventType,
          attributes: e.attributes as JsonObject,
        })),
        nextPageToken,
      };
    },

    watchWorkflow(req, ctx) {
      const events = operations.watch(
        { workflowId: req.workflowId, runId: req.runId, afterEventId: Number(req.afterEventId), types: new Set(req.types.map((t) => EVENT_TYPE_FROM_PROTO[t])) },
        ctx.signal,
      );
      return passThrough(events, { each: watchEventToProto });
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
  return callBound(ctx.signal, ctx.timeoutMs(), ctx.values.get(kCall)?.trace);
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

function startRequest(req: StartWorkflowRequest | RunWorkflowRequest | SignalWithStartRequest, ctx: HandlerContext): StartRequest {
  return {
    caller: ctx.values.get(kCall)?.caller,
    workflowType: req.workflowType,
    workflowId: req.workflowId,
    taskQueue: req.taskQueue,
    input: optionalJson(req.input, "input"),
    requestId: req.requestId,
    options: req.options === undefined ? undefined : startOptions(req.options),
  };
}

function startOptions(o: StartOptionsProto): StartOptions {
  const ms = (d: Duration | undefined) => (d === undefined ? undefined : Number(durationMs(d)));
  const json = (map: Record<string, Value>, field: string) =>
    Object.fromEntries(Object.entries(map).map(([key, value]) => [key, valueToJson(value, `${field}.${key}`)]));
  const retry = o.retryPolicy;
  return {
    memo: json(o.memo, "options.memo"),
    searchAttributes: json(o.searchAttributes, "options.search_attributes"),
    idConflictPolicy: ID_CONFLICT_FROM_PROTO[o.idConflictPolicy],
    idReusePolicy: ID_REUSE_FROM_PROTO[o.idReusePolicy],
    executionTimeoutMs: ms(o.executionTimeout),
    runTimeoutMs: ms(o.runTimeout),
    taskTimeoutMs: ms(o.taskTimeout),
    retry:
      retry === undefined
        ? undefined
        : {
            initialIntervalMs: ms(retry.initialInterval),
            backoffCoefficient: retry.backoffCoefficient || undefined,
            maximumIntervalMs: ms(retry.maximumInterval),
            maximumAttempts: retry.maximumAttempts,
            nonRetryableErrorTypes: retry.nonRetryableErrorTypes,
          },
    startDelayMs: ms(o.startDelay),
  };
}

const ID_CONFLICT_FROM_PROTO: Readonly<Record<WorkflowIdConflictPolicy, IdConflictPolicy | undefined>> = {
  [WorkflowIdConflictPolicy.UNSPECIFIED]: undefined,
  [WorkflowIdConflictPolicy.FAIL]: "FAIL",
  [WorkflowIdConflictPolicy.USE_EXISTING]: "USE_EXISTING",
  [WorkflowIdConflictPolicy.TERMINATE_EXISTING]: "TERMINATE_EXISTING",
};

const ID_REUSE_FROM_PROTO: Readonly<Record<WorkflowIdReusePolicy, IdReusePolicy | undefined>> = {
  [WorkflowIdReusePolicy.UNSPECIFIED]: undefined,
  [WorkflowIdReusePolicy.ALLOW_DUPLICATE]: "ALLOW_DUPLICATE",
  [WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY]: "ALLOW_DUPLICATE_FAILED_ONLY",
  [WorkflowIdReusePolicy.REJECT_DUPLICATE]: "REJECT_DUPLICATE",
};

function filterOf(req: ListWorkflowsRequest | CountWorkflowsRequest): RunFilter {
  const date = (t: Timestamp | undefined) => (t === undefined ? undefined : timestampDate(t));
  return {
    query: req.query,
    workflowType: req.workflowType,
    status: req.status === WorkflowStatus.UNSPECIFIED ? undefined : STATUS_FROM_PROTO[req.status],
    startedAfter: date(req.startedAfter),
    startedBefore: date(req.startedBefore),
  };
}

function summaryToProto(r: RunSummary) {
  return {
    workflowId: r.workflowId,
    runId: r.runId,
    workflowType: r.workflowType,
    taskQueue: r.taskQueue,
    status: STATUS_TO_PROTO[r.status],
    startTime: r.startTime ? timestampFromDate(r.startTime) : undefined,
    closeTime: r.closeTime ? timestampFromDate(r.closeTime) : undefined,
    historyLength: BigInt(r.historyLength),
    memo: memoToProto(r.memo),
  };
}

/** A memo as a google.protobuf.Struct (protobuf-es holds a Struct field as plain JSON). */
function memoToProto(memo: Readonly<Record<string, unknown>>): JsonObject {
  return JSON.parse(JSON.stringify(memo)) as JsonObject;
}

function progressToProto(p: ProgressInfo | undefined): Progress | undefined {
  return p === undefined ? undefined : ({ $typeName: "flowgate.workflow.v1.Progress", step: p.step, percent: p.percent, message: p.message } satisfies Progress);
}

function inputRequestToProto(r: InputRequestInfo | undefined): InputRequest | undefined {
  if (r === undefined) return undefined;
  return { $typeName: "flowgate.workflow.v1.InputRequest", name: r.name, prompt: r.prompt, schema: jsonToValue(r.schema, true) };
}

/**
 * Each event's message, built once: every watcher of a run in this process is sent the same event objects
 * (they share one history poll), so a thousand watchers cost one conversion per event, not a thousand.
 */
const watchMessages = new WeakMap<WatchEvent, WatchWorkflowResponse>();

function watchEventToProto(e: WatchEvent): WatchWorkflowResponse {
  let message = watchMessages.get(e);
  if (message === undefined) {
    message = toWatchMessage(e);
    watchMessages.set(e, message);
  }
  return message;
}

function toWatchMessage(e: WatchEvent): WatchWorkflowResponse {
  return {
    $typeName: "flowgate.workflow.v1.WatchWorkflowResponse",
    eventId: BigInt(e.eventId),
    runId: e.runId,
    time: timestampFromDate(e.time),
    type: EVENT_TYPE_TO_PROTO[e.type],
    name: e.name,
    attempt: e.attempt,
    data: jsonToValue(e.data, true),
    failure: e.failure ? failureToProto(e.failure) : undefined,
    progress: progressToProto(e.progress),
    inputRequest: inputRequestToProto(e.inputRequest),
    newRunId: e.newRunId,
  };
}

const EVENT_TYPE_TO_PROTO: Readonly<Record<WatchEventType, WorkflowEventType>> = {
  STARTED: WorkflowEventType.STARTED,
  ACTIVITY_SCHEDULED: WorkflowEventType.ACTIVITY_SCHEDULED,
  ACTIVITY_RETRIED: WorkflowEventType.ACTIVITY_RETRIED,
  ACTIVITY_COMPLETED: WorkflowEventType.ACTIVITY_COMPLETED,
  ACTIVITY_FAILED: WorkflowEventType.ACTIVITY_FAILED,
  SIGNAL_RECEIVED: WorkflowEventType.SIGNAL_RECEIVED,
  UPDATE_ACCEPTED: WorkflowEventType.UPDATE_ACCEPTED,
  UPDATE_COMPLETED: WorkflowEventType.UPDATE_COMPLETED,
  TIMER_STARTED: WorkflowEventType.TIMER_STARTED,
  TIMER_FIRED: WorkflowEventType.TIMER_FIRED,
  PROGRESS: WorkflowEventType.PROGRESS,
  WAITING_FOR_INPUT: WorkflowEventType.WAITING_FOR_INPUT,
  INPUT_RECEIVED: WorkflowEventType.INPUT_RECEIVED,
  CANCEL_REQUESTED: WorkflowEventType.CANCEL_REQUESTED,
  COMPLETED: WorkflowEventType.COMPLETED,
  FAILED: WorkflowEventType.FAILED,
  CANCELED: WorkflowEventType.CANCELED,
  TERMINATED: WorkflowEventType.TERMINATED,
  TIMED_OUT: WorkflowEventType.TIMED_OUT,
  CONTINUED_AS_NEW: WorkflowEventType.CONTINUED_AS_NEW,
};

const EVENT_TYPE_FROM_PROTO = Object.fromEntries(
  Object.entries(EVENT_TYPE_TO_PROTO).map(([name, value]) => [value, name]),
) as Readonly<Record<WorkflowEventType, WatchEventType>>;

function waitMs(wait: Duration | undefined): number {
  return wait === undefined ? 0 : Number(durationMs(wait));
}

const STATUS_FROM_PROTO: Readonly<Record<WorkflowStatus, WorkflowStatusName>> = {
  [WorkflowStatus.UNSPECIFIED]: "UNSPECIFIED",
  [WorkflowStatus.RUNNING]: "RUNNING",
  [WorkflowStatus.COMPLETED]: "COMPLETED",
  [WorkflowStatus.FAILED]: "FAILED",
  [WorkflowStatus.CANCELED]: "CANCELED",
  [WorkflowStatus.TERMINATED]: "TERMINATED",
  [WorkflowStatus.CONTINUED_AS_NEW]: "CONTINUED_AS_NEW",
  [WorkflowStatus.TIMED_OUT]: "TIMED_OUT",
  [WorkflowStatus.PAUSED]: "PAUSED",
};


/** Reads and drops the rest of a client stream, for at most `ms`. */
async function drain(messages: AsyncIterator<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  const readAll = (async () => {
    try {
      while ((await messages.next()).done !== true);
    } catch {
      // The stream failed or was cut: nothing more to drop.
    }
  })();
  await Promise.race([readAll, timeUp]);
  clearTimeout(timer);
}
