// A thin typed client of WorkflowService for TypeScript callers, in Node and in browsers: start a workflow by
// its type and input, then work with the run it returns (its result, a watch that resumes by itself after a
// dropped connection, signals, queries, updates, stop). Inputs and results are plain JSON values; the
// generated client (`workflows`) is there for everything else. Every failure of a call is a ConnectError
// with its code, as the generated client throws it.
//
// It imports nothing of Node: the default transport is connect-web's Connect protocol over fetch (Node 18+
// and every browser). For gRPC over HTTP/2 in Node, pass connect-node's createGrpcTransport as `transport`.
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type CallOptions, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { WorkflowStatus, type StartOptions, type StartOptionsSchema, type WorkflowEventType } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import { WorkflowService, type GetWorkflowResultResponse, type WatchWorkflowResponse } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";

export interface FlowgateClientOptions {
  /** Where Flowgate listens: `http://localhost:8000`. Not needed with `transport`. */
  readonly baseUrl?: string;
  /** The Connect protocol (JSON, the default; `binary` for protobuf) or gRPC-Web, both over fetch. */
  readonly protocol?: "connect" | "connect-binary" | "grpc-web";
  /** Any Connect transport instead (connect-node's gRPC one, say); `baseUrl` and `protocol` are then unused. */
  readonly transport?: Transport;
  /** An API key, sent as `Authorization: Bearer <key>`; or a function that returns the credential for each call (a token that renews). */
  readonly apiKey?: string | (() => string | Promise<string>);
  /** Headers sent with every call (a tracing header, say). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What StartWorkflow takes besides the type and the input. */
export interface StartWorkflowOptions {
  /** The run's workflow id; generated when absent (from `requestId` when that is set). */
  readonly workflowId?: string;
  /** Makes retries of this start make one run (see the README's Idempotency). */
  readonly requestId?: string;
  readonly taskQueue?: string;
  /** Memo, search attributes, timeouts, retry policy, id policies: the contract's StartOptions. */
  readonly options?: MessageInitShape<typeof StartOptionsSchema>;
  /** The call's own options: a deadline (`timeoutMs`), a signal, headers. */
  readonly call?: CallOptions;
}

/** A run's end: its status and, for a completed run, its result, else its failure. */
export interface RunOutcome {
  readonly workflowId: string;
  readonly runId: string;
  /** The status's name: "COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT", "CONTINUED_AS_NEW". */
  readonly status: string;
  readonly result?: JsonValue;
  readonly failure?: { readonly message: string; readonly type: string; readonly stackTrace: string };
}

/** A run that ended without a result: thrown by `result()`, with the outcome. */
export class WorkflowRunError extends Error {
  override name = "WorkflowRunError";
  constructor(readonly outcome: RunOutcome) {
    super(`workflow "${outcome.workflowId}" run "${outcome.runId}" ended ${outcome.status}${outcome.failure ? `: ${outcome.failure.message}` : ""}`);
  }
}

/** How a watch resumes when its stream breaks. */
export interface WatchOptions {
  /** Only these event types (the close always comes). */
  readonly types?: readonly WorkflowEventType[];
  /** Resume after this event of `runId` instead of from the start. */
  readonly afterEventId?: bigint;
  /** Ends the watch. */
  readonly signal?: AbortSignal;
  /** Reconnections in a row without an event before the watch gives up with the last error; 5 by default. */
  readonly maxRetries?: number;
  /** The first wait before reconnecting, doubled each time up to 10 s; 250 ms by default. */
  readonly retryDelayMs?: number;
}

/**
 * What a broken stream may fail with, besides unavailable: a reset stream or a dropped HTTP/2 session reads
 * as canceled (connect-node) when the caller did not cancel, and a cut fetch as unknown.
 */
const RETRYABLE = new Set([Code.Unavailable, Code.Canceled, Code.Internal, Code.Unknown, Code.DeadlineExceeded, Code.ResourceExhausted]);

/**
 * `err` as a ConnectError. fetch fails with a bare TypeError ("fetch failed", "terminated") when the network
 * does, which Connect reads as unknown: it is unavailable, as connect-node reports the same failure.
 */
function connectErrorOf(err: unknown): ConnectError {
  const error = ConnectError.from(err);
  if (error.code !== Code.Unknown || !(err instanceof TypeError)) return error;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return new ConnectError(`the connection to Flowgate failed (${err.message}${cause})`, Code.Unavailable, undefined, undefined, err);
}
/** GetWorkflowResult waits at most this long per call (the server's bound): result() calls again until the end. */
const RESULT_WAIT_MS = 5 * 60_000;

const toValue = (value: JsonValue | undefined): Value | undefined => (value === undefined ? undefined : fromJson(ValueSchema, value));
const fromValue = (value: Value | undefined): JsonValue | undefined => (value === undefined ? undefined : toJson(ValueSchema, value));
const statusName = (status: WorkflowStatus) => WorkflowStatus[status] ?? "UNSPECIFIED";

/** One run of a workflow: what `start` returns, and what `run(workflowId, runId)` names. */
export class WorkflowRun {
  constructor(
    private readonly client: Client<typeof WorkflowService>,
    readonly workflowId: string,
    /** Empty for "the latest run of the workflow id". */
    readonly runId: string,
  ) {}

  /** The run's status, type, times, progress and memo (GetWorkflowStatus). */
  status(call?: CallOptions) {
    return this.client.getWorkflowStatus({ workflowId: this.workflowId, runId: this.runId }, call);
  }

  /** Waits for the run's end however long it takes (one GetWorkflowResult after another) and returns it. */
  async outcome(call?: CallOptions): Promise<RunOutcome> {
    for (;;) {
      const res = await this.client.getWorkflowResult({ workflowId: this.workflowId, runId: this.runId, wait: durationFromMs(RESULT_WAIT_MS) }, call);
      if (res.status !== WorkflowStatus.RUNNING && res.status !== WorkflowStatus.UNSPECIFIED) return outcomeOf(res);
    }
  }

  /** The run's result once it completes; a WorkflowRunError, with the outcome, if it ends any other way. */
  async result(call?: CallOptions): Promise<JsonValue | undefined> {
    const outcome = await this.outcome(call);
    if (outcome.status !== "COMPLETED") throw new WorkflowRunError(outcome);
    return outcome.result;
  }

  /**
   * The run's events as they happen, to its close, following continue-as-new. A stream that breaks
   * (the connection dropped, the server went away: unavailable and the like) is opened again after the last
   * event it gave, so no event is lost or repeated; a caller's own error (not_found, permission_denied) ends
   * it at once.
   */
  async *watch(options: WatchOptions = {}): AsyncGenerator<WatchWorkflowResponse> {
    let runId = this.runId;
    let afterEventId = options.afterEventId ?? 0n;
    let failures = 0;
    for (;;) {
      try {
        for await (const event of this.client.watchWorkflow(
          { workflowId: this.workflowId, runId, afterEventId, types: [...(options.types ?? [])] },
          { signal: options.signal },
        )) {
          failures = 0;
          runId = event.runId;
          afterEventId = event.eventId;
          yield event;
        }
        return;
      } catch (err) {
        const error = connectErrorOf(err);
        if (options.signal?.aborted || !RETRYABLE.has(error.code) || ++failures > (options.maxRetries ?? 5)) throw error;
        // The server names where to resume when it shuts down; the last event seen says the same.
        const delay = Math.min(10_000, (options.retryDelayMs ?? 250) * 2 ** (failures - 1));
        await pause(delay, options.signal);
        if (options.signal?.aborted) throw error;
      }
    }
  }

  /** Sends a signal the type declares; with `requestId`, a retried signal is delivered once. */
  async signal(name: string, input?: JsonValue, options: { requestId?: string; call?: CallOptions } = {}): Promise<void> {
    await this.client.signalWorkflow({ workflowId: this.workflowId, runId: this.runId, signalName: name, input: toValue(input), requestId: options.requestId }, options.call);
  }

  /** Runs a query and returns its result. */
  async query(name: string, input?: JsonValue, call?: CallOptions): Promise<JsonValue | undefined> {
    const res = await this.client.queryWorkflow({ workflowId: this.workflowId, runId: this.runId, queryName: name, input: toValue(input) }, call);
    return fromValue(res.result);
  }

  /** Runs an update, waits for it, and returns its result; a validator's refusal is failed_precondition. */
  async update(name: string, input?: JsonValue, options: { requestId?: string; call?: CallOptions } = {}): Promise<JsonValue | undefined> {
    const res = await this.client.updateWorkflow(
      { workflowId: this.workflowId, runId: this.runId, updateName: name, input: toValue(input), requestId: options.requestId },
      options.call,
    );
    return fromValue(res.result);
  }

  /** Asks the run to cancel (the default), or terminates it at once. */
  async stop(options: { terminate?: boolean; reason?: string; call?: CallOptions } = {}): Promise<void> {
    await this.client.stopWorkflow({ workflowId: this.workflowId, runId: this.runId, terminate: options.terminate, reason: options.reason }, options.call);
  }
}

export interface FlowgateClient {
  /** The generated client of WorkflowService, on the same transport: every RPC, as the contract has it. */
  readonly workflows: Client<typeof WorkflowService>;
  /** Starts a run of `workflowType` with `input` and returns it once Temporal has it (StartWorkflow). */
  start(workflowType: string, input?: JsonValue, options?: StartWorkflowOptions): Promise<WorkflowRun>;
  /** A run that already exists: its workflow id, and its run id (the latest run when absent). */
  run(workflowId: string, runId?: string): WorkflowRun;
}

/** A client of the Flowgate at `baseUrl` (or on `transport`). */
export function createFlowgateClient(options: FlowgateClientOptions): FlowgateClient {
  const transport = options.transport ?? defaultTransport(options);
  const workflows = createClient(WorkflowService, transport);
  return {
    workflows,
    async start(workflowType, input, start = {}) {
      const res = await workflows.startWorkflow(
        {
          workflowType,
          input: toValue(input),
          workflowId: start.workflowId,
          requestId: start.requestId,
          taskQueue: start.taskQueue,
          options: start.options as StartOptions | undefined,
        },
        start.call,
      );
      return new WorkflowRun(workflows, res.workflowId, res.runId);
    },
    run: (workflowId, runId = "") => new WorkflowRun(workflows, workflowId, runId),
  };
}

function defaultTransport(options: FlowgateClientOptions): Transport {
  if (options.baseUrl === undefined) throw new Error("createFlowgateClient needs baseUrl (http://localhost:8000) or a transport");
  const interceptors = [credentials(options)];
  if (options.protocol === "grpc-web") return createGrpcWebTransport({ baseUrl: options.baseUrl, interceptors });
  return createConnectTransport({ baseUrl: options.baseUrl, useBinaryFormat: options.protocol === "connect-binary", interceptors });
}

/** Sets the credential and the extra headers on every call. */
/**
 * The interceptor that sends `apiKey` (as `Authorization: Bearer`) and `headers` with every call, and turns a
 * failed fetch into `unavailable`. The default transports have it; add it to a transport of your own.
 */
export function credentials(options: Pick<FlowgateClientOptions, "apiKey" | "headers">): Interceptor {
  return (next) => async (req) => {
    for (const [name, value] of Object.entries(options.headers ?? {})) req.header.set(name, value);
    const key = typeof options.apiKey === "function" ? await options.apiKey() : options.apiKey;
    if (key !== undefined) req.header.set("authorization", `Bearer ${key}`);
    try {
      return await next(req);
    } catch (err) {
      throw connectErrorOf(err);
    }
  };
}

function outcomeOf(res: GetWorkflowResultResponse): RunOutcome {
  const base = { workflowId: res.workflowId, runId: res.runId, status: statusName(res.status) };
  if (res.outcome.case === "result") return { ...base, result: fromValue(res.outcome.value) };
  if (res.outcome.case === "failure") {
    const { message, type, stackTrace } = res.outcome.value;
    return { ...base, failure: { message, type, stackTrace } };
  }
  return base;
}

/** Waits `ms`, or less when `signal` aborts meanwhile. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}
