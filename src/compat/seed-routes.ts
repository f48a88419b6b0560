// A compatibility service of its own: the REST paths that callers of the servers Flowgate replaces use
// today, answering with the shapes their scripts send and read. It speaks two dialects:
//   - the enterprise FastAPI + Temporal servers: POST /workflows/{type}[/async], GET /workflows/{id}/status
//     and GET /workflows/{id}/result;
//   - the LlamaIndex WorkflowServer: GET /workflows, POST /workflows/{name}/run[-nowait], GET /handlers[/{id}],
//     POST /handlers/{id}/cancel, GET /results/{id}, GET and POST /events/{id}, and GET / (as JSON).
// It is not the contract: none of it is in the protos, and new callers should use WorkflowService
// (/workflows/v1/...). Every path calls the domain core (WorkflowOperations) directly, so inputs are checked
// against the registry's schemas as on every other face. Failures are thrown; the app's error handler (set on
// the root, so this scope inherits it) maps them through the one error table to the Connect error body.
//
// The contract's paths are never shadowed: they all start with the static segment /workflows/v1/, which the
// router prefers to the parameters here (so "v1" is the one workflow type or id these paths cannot reach).
import { setMaxListeners } from "node:events";
import { Readable } from "node:stream";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  isOpen,
  type CallBound,
  type RunFilter,
  type RunOutcome,
  type RunSummary,
  type StartRequest,
  type WatchEvent,
  type WorkflowOperations,
} from "../operations/index.js";
import {
  callerOf,
  CONTENT_TYPE_BY_FORMAT,
  formatError,
  formatMessage,
  parseBodiesAsJson,
  parseLastEventId,
  type ReadinessProbe,
  type StreamFormat,
} from "../server/index.js";
import { eventEnvelope, handlerOf, isObject, readEvent, seedOutcome, seedStatus } from "./shapes.js";

export interface CompatRoutesOptions {
  readonly workflows: WorkflowOperations;
  /** The app's readiness probe, which GET / reports. */
  readonly readiness: ReadinessProbe;
  /** How long GET /workflows/{id}/result waits for the run to close: the server's run timeout. */
  readonly resultWaitMs: number;
}

// Who may call each path: the scope of the WorkflowService RPC it does the work of.
const READ = { access: { scope: "workflows.read" } } as const;
const WRITE = { access: { scope: "workflows.write" } } as const;
const ADMIN = { access: { scope: "workflows.admin" } } as const;
const STATUS = { access: { platform: "health" } } as const;

/** GET /handlers answers with one page of the newest runs. */
const HANDLERS_PAGE_SIZE = 100;
/** How many closed runs' outcomes GET /handlers reads from Temporal at once. */
const OUTCOME_READS_AT_ONCE = 8;
const CANCEL_REASON = "cancelled through POST /handlers/{handler_id}/cancel";

/** GET /handlers?status= as a visibility query. A run that continued as new is not a handler: its chain's latest run is. */
const HANDLER_STATUS_QUERY: Readonly<Record<string, string>> = {
  running: 'ExecutionStatus = "Running"',
  completed: 'ExecutionStatus = "Completed"',
  failed: '(ExecutionStatus = "Failed" OR ExecutionStatus = "Terminated" OR ExecutionStatus = "TimedOut")',
  cancelled: 'ExecutionStatus = "Canceled"',
};
const EVERY_HANDLER_QUERY = 'ExecutionStatus != "ContinuedAsNew"';

/** A Fastify plugin: register it in its own scope, since it sets that scope's body parsing. */
export async function compatRoutes(scope: FastifyInstance, options: CompatRoutesOptions): Promise<void> {
  const { workflows } = options;

  // Bodies are JSON whatever the Content-Type says, and an empty body is no input, as on the REST paths.
  parseBodiesAsJson(scope);

  // A run-and-wait or an event stream could hold the app's close for as long as its run lasts: they end
  // with the Connect calls, at the server's shutdown signal; a stream's failure after its first write is
  // mapped by the server's one error mapper (before it, the app's error handler maps it).
  const { shutdown, errors } = scope.flowgate;
  const boundOf = (reply: FastifyReply) => requestBound(reply, shutdown);

  // ---- FastAPI + Temporal: the body is the workflow's input ----

  scope.post<{ Params: { workflow_type: string } }>("/workflows/:workflow_type", { config: WRITE }, async (req, reply) => {
    return seedOutcome(await workflows.run(startOf(req, req.params.workflow_type, req.body as JsonValue | undefined), boundOf(reply)));
  });

  scope.post<{ Params: { workflow_type: string } }>("/workflows/:workflow_type/async", { config: WRITE }, async (req, reply) => {
    const run = await workflows.start(startOf(req, req.params.workflow_type, req.body as JsonValue | undefined), boundOf(reply));
    return { workflow_id: run.workflowId, run_id: run.runId, status: "started" };
  });

  scope.get<{ Params: { workflow_id: string } }>("/workflows/:workflow_id/status", { config: READ }, async (req, reply) => {
    const d = await workflows.status({ workflowId: req.params.workflow_id, runId: "" }, boundOf(reply));
    return {
      workflow_id: d.workflowId,
      run_id: d.runId,
      workflow_type: d.workflowType,
      status: seedStatus(d.status),
      start_time: d.startTime.toISOString(),
      close_time: d.closeTime?.toISOString() ?? null,
    };
  });

  // Waits for the run to close, for as long as a run-and-wait would; still running then: 202.
  scope.get<{ Params: { workflow_id: string } }>("/workflows/:workflow_id/result", { config: READ }, async (req, reply) => {
    const outcome = await workflows.result({ workflowId: req.params.workflow_id, runId: "" }, options.resultWaitMs, boundOf(reply));
    return reply.code(isOpen(outcome.status) ? 202 : 200).send(seedOutcome(outcome));
  });

  // ---- LlamaIndex WorkflowServer: a handler is a workflow id (its latest run) ----

  scope.get("/workflows", { config: READ }, async () => ({ workflows: workflows.registry.list().map((t) => t.name) }));

  scope.post<{ Params: { name: string } }>("/workflows/:name/run", { config: WRITE }, async (req, reply) => {
    const bound = boundOf(reply);
    const outcome = await workflows.run(startOf(req, req.params.name, runInput(req.body as JsonValue | undefined)), bound);
    const run = await workflows.status({ workflowId: outcome.workflowId, runId: outcome.runId }, bound);
    return handlerOf(run, outcome.outcome);
  });

  scope.post<{ Params: { name: string } }>("/workflows/:name/run-nowait", { config: WRITE }, async (req, reply) => {
    const run = await workflows.start(startOf(req, req.params.name, runInput(req.body as JsonValue | undefined)), boundOf(reply));
    // As LlamaIndex does, the answer comes from the start itself: running, started now.
    return handlerOf({ ...run, workflowType: req.params.name, status: "RUNNING", startTime: new Date(), closeTime: undefined }, undefined);
  });

  scope.get<{ Querystring: Record<string, unknown> }>("/handlers", { config: READ }, async (req, reply) => {
    const bound = boundOf(reply);
    const status = queryText(req.query.status);
    const query = status === undefined ? EVERY_HANDLER_QUERY : HANDLER_STATUS_QUERY[status];
    if (query === undefined) {
      const known = Object.keys(HANDLER_STATUS_QUERY).join(", ");
      throw new ConnectError(`status: "${status}" is not a handler status (${known})`, Code.InvalidArgument);
    }
    const filter: RunFilter = {
      query,
      workflowType: queryText(req.query.workflow_name) ?? "",
      status: undefined,
      startedAfter: undefined,
      startedBefore: undefined,
    };
    const { runs } = await workflows.list(filter, HANDLERS_PAGE_SIZE, "", bound);
    // Newest first by start, as the WorkflowServer lists them. Temporal's SQL visibility orders closed runs
    // by close time, which differs when runs close out of the order they started.
    const newestFirst = [...runs].sort((a, b) => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0));
    const handlers = await mapConcurrently(newestFirst, OUTCOME_READS_AT_ONCE, async (run) =>
      handlerOf(run, isOpen(run.status) ? undefined : await listedOutcome(workflows, run, bound, req.log)),
    );
    return { handlers };
  });

  scope.get<{ Params: { handler_id: string } }>("/handlers/:handler_id", { config: READ }, async (req, reply) => {
    return currentHandler(workflows, req.params.handler_id, boundOf(reply));
  });

  // The result without waiting: 202 while the run is going, 200 once it closed.
  scope.get<{ Params: { handler_id: string } }>("/results/:handler_id", { config: READ }, async (req, reply) => {
    const handler = await currentHandler(workflows, req.params.handler_id, boundOf(reply));
    return reply.code(handler.status === "running" ? 202 : 200).send(handler);
  });

  // Cancel, not terminate: the workflow gets to clean up. A closed run is refused (FailedPrecondition).
  scope.post<{ Params: { handler_id: string } }>("/handlers/:handler_id/cancel", { config: ADMIN }, async (req, reply) => {
    await workflows.stop({ workflowId: req.params.handler_id, runId: "", terminate: false, reason: CANCEL_REASON }, boundOf(reply));
    return { status: "cancelled" };
  });

  // The run's events, replayed from its history and then followed live: any number of readers, from any
  // replica, and a reconnect resumes after the event its Last-Event-ID names. No HEAD route: Fastify's would
  // drain the stream after answering, watching an open run for nobody.
  type EventsRoute = { Params: { handler_id: string }; Querystring: Record<string, unknown> };
  scope.get<EventsRoute>("/events/:handler_id", { exposeHeadRoute: false, config: READ }, async (req, reply) => {
    const format: StreamFormat = (queryText(req.query.sse) ?? "true").toLowerCase() === "true" ? "sse" : "ndjson";
    const resume = lastEventIdOf(req.headers["last-event-id"]);
    const bound = boundOf(reply);
    // The run is resolved first, so an unknown handler is a 404, not a stream that fails at once.
    const run = await workflows.status({ workflowId: req.params.handler_id, runId: resume?.runId ?? "" }, bound);
    const events = workflows.watch({ workflowId: run.workflowId, runId: run.runId, afterEventId: resume?.eventId ?? 0 }, bound.signal);
    const failed = (err: unknown): JsonObject => {
      const connectErr = errors.toConnectError(err);
      if (connectErr.code === Code.Internal) req.log.error({ err }, "event stream failed");
      return errorToJson(connectErr, undefined);
    };
    reply.header("content-type", CONTENT_TYPE_BY_FORMAT[format]).header("cache-control", "no-cache").header("x-accel-buffering", "no");
    return reply.send(Readable.from(frames(events, format, failed)));
  });

  // Sends an event into a running workflow: a signal, named by `step` or by the event envelope's type.
  scope.post<{ Params: { handler_id: string } }>("/events/:handler_id", { config: WRITE }, async (req, reply) => {
    const body = req.body as JsonValue | undefined;
    if (!isObject(body)) throw new ConnectError('request body: must be a JSON object {"event": ..., "step": ...}', Code.InvalidArgument);
    const event = readEvent(body.event, "event");
    if (event === undefined) throw new ConnectError("event: is required", Code.InvalidArgument);
    const { step } = body;
    if (step !== undefined && step !== null && typeof step !== "string") throw new ConnectError("step: must be a string", Code.InvalidArgument);
    const name = step || event.type;
    if (!name) {
      throw new ConnectError(
        'step: is required when "event" is not an envelope {"type": "<signal name>", "value": {...}}: it names the signal to send',
        Code.InvalidArgument,
      );
    }
    await workflows.signal({ workflowId: req.params.handler_id, runId: "", name, input: event.value, requestId: "" }, boundOf(reply));
    return { status: "sent" };
  });

  // The WorkflowServer's status, for clients that ask for JSON; anything else gets the 404 it gets today
  // (the web console will answer there).
  scope.get("/", { config: STATUS }, async (req, reply) => {
    if (!/\bapplication\/json\b/i.test(req.headers.accept ?? "")) return reply.callNotFound();
    const { ready, checks } = await options.readiness.check();
    // "reachable" is the word the app's readiness check uses for a Temporal that answers.
    return { service: "flowgate", status: ready ? "ok" : "degraded", temporal_connected: checks.temporal === "reachable" };
  });
}

function startOf(req: FastifyRequest, workflowType: string, input: JsonValue | undefined): StartRequest {
  return { workflowType, workflowId: "", taskQueue: "", input, requestId: "", caller: callerOf(req) };
}

/**
 * The input of a LlamaIndex run: `start_event`, else `kwargs`, as LlamaIndex reads them; either may be a JSON
 * string or an envelope `{type, value}` (its value is the input). Continuing an earlier run's context is
 * LlamaIndex's own and is refused rather than ignored.
 */
function runInput(body: JsonValue | undefined): JsonValue | undefined {
  if (body === undefined) return undefined;
  if (!isObject(body)) throw new ConnectError('request body: must be a JSON object {"start_event": {...}}', Code.InvalidArgument);
  for (const field of ["handler_id", "context"]) {
    if (body[field] !== undefined && body[field] !== null) {
      throw new ConnectError(`${field}: continuing an earlier run's context is not supported; start a new run`, Code.Unimplemented);
    }
  }
  const field = body.start_event !== undefined && body.start_event !== null ? "start_event" : "kwargs";
  return readEvent(body[field], field)?.value;
}

/** The handler of a workflow id's latest run, with its outcome once it closed. */
async function currentHandler(workflows: WorkflowOperations, workflowId: string, bound: CallBound): Promise<JsonObject> {
  const run = await workflows.status({ workflowId, runId: "" }, bound);
  if (isOpen(run.status)) return handlerOf(run, undefined);
  const { outcome } = await workflows.result({ workflowId, runId: run.runId }, 0, bound);
  return handlerOf(run, outcome);
}

/**
 * A listed closed run's outcome. A run whose history is gone (or unreadable) still lists, without its result:
 * one such run should not fail the whole listing.
 */
async function listedOutcome(
  workflows: WorkflowOperations,
  run: RunSummary,
  bound: CallBound,
  log: FastifyBaseLogger,
): Promise<RunOutcome["outcome"]> {
  try {
    return (await workflows.result({ workflowId: run.workflowId, runId: run.runId }, 0, bound)).outcome;
  } catch (err) {
    if (bound.signal.aborted) throw err;
    log.warn({ err, workflowId: run.workflowId, runId: run.runId }, "GET /handlers: could not read a run's outcome");
    return undefined;
  }
}

/** Each event as SSE (`id: <run_id>/<event_id>` and `data: <envelope>`) or NDJSON; a failure ends the stream in-band. */
async function* frames(events: AsyncIterable<WatchEvent>, format: StreamFormat, failed: (err: unknown) => JsonObject): AsyncGenerator<string> {
  try {
    for await (const event of events) yield formatMessage(format, eventEnvelope(event), `${event.runId}/${event.eventId}`);
  } catch (err) {
    // The 200 has gone out: the error is the stream's last frame, as on the contract's streams. (When the
    // client went away, nobody reads it: the stream is being destroyed.)
    yield formatError(format, failed(err));
  }
}

/** The resume point a Last-Event-ID names (the contract's streams read it the same way); undefined when absent or empty. */
function lastEventIdOf(header: string | string[] | undefined): { runId: string | undefined; eventId: number } | undefined {
  const text = (Array.isArray(header) ? header.at(-1) : header)?.trim() ?? "";
  if (text === "") return undefined;
  const { runId, eventId } = parseLastEventId(text);
  return { runId, eventId: Number(eventId) };
}

/**
 * The bound of one request: it aborts when the client goes away before the answer is complete (which stops
 * a wait or a watch), or when the server has shut down past its grace.
 */
function requestBound(reply: FastifyReply, shutdown: AbortSignal): CallBound {
  const controller = new AbortController();
  // GET /handlers reads several runs' outcomes at once under one bound: more than ten listeners are normal.
  setMaxListeners(0, controller.signal);
  const onShutdown = () => controller.abort(shutdown.reason);
  const res = reply.raw;
  res.once("close", () => {
    shutdown.removeEventListener("abort", onShutdown);
    if (!res.writableEnded) controller.abort(new ConnectError("the client went away", Code.Canceled));
  });
  if (shutdown.aborted) onShutdown();
  else shutdown.addEventListener("abort", onShutdown, { once: true });
  return { signal: controller.signal, deadline: undefined };
}

/** A query parameter given once, as text; undefined when absent (or repeated). */
function queryText(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** `fn` over `items`, at most `limit` at a time, in order. */
async function mapConcurrently<T, U>(items: readonly T[], limit: number, fn: (item: T) => Promise<U>): Promise<U[]> {
  const results: U[] = new Array<U>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
