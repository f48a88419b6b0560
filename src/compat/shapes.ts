// The seed servers' JSON shapes, as pure functions of the domain's runs, outcomes and watch events: the
// FastAPI + Temporal servers' `{workflow_id, run_id, status, result}`, the LlamaIndex WorkflowServer's
// Handler and event envelope, and how their request bodies carry a workflow's input or an event.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { FailureInfo, RunOutcome, RunSummary, WatchEvent, WatchEventType, WorkflowStatusName } from "../operations/index.js";

// ---- FastAPI + Temporal ----

/** The FastAPI servers' status: Temporal's, lower-case ("completed", "timed_out", "running"). */
export function seedStatus(status: WorkflowStatusName): string {
  return status.toLowerCase();
}

/** `{workflow_id, run_id, status, result}`, plus `error` (the failure's message) when the run failed, was canceled, terminated or timed out. */
export function seedOutcome(outcome: RunOutcome): JsonObject {
  const base: JsonObject = { workflow_id: outcome.workflowId, run_id: outcome.runId, status: seedStatus(outcome.status) };
  const o = outcome.outcome;
  if (o?.kind === "failure") return { ...base, result: null, error: o.failure.message };
  return { ...base, result: o?.kind === "result" ? json(o.value) : null };
}

// ---- LlamaIndex WorkflowServer ----

/** What a Handler is made from: a run as described or listed. */
export type RunFacts = Pick<RunSummary, "workflowId" | "runId" | "workflowType" | "status" | "startTime" | "closeTime">;

/** A handler's status: the run's, in LlamaIndex's four words. */
function handlerStatus(status: WorkflowStatusName): "running" | "completed" | "failed" | "cancelled" {
  switch (status) {
    case "COMPLETED":
      return "completed";
    case "FAILED":
    case "TERMINATED":
    case "TIMED_OUT":
      return "failed";
    case "CANCELED":
      return "cancelled";
    // Paused runs are still open; a run that continued as new lives on in the chain's next run.
    case "RUNNING":
    case "PAUSED":
    case "CONTINUED_AS_NEW":
    case "UNSPECIFIED":
      return "running";
  }
}

/**
 * The LlamaIndex Handler of a run: handler_id is the workflow id. Temporal records no "last update" time
 * without reading the history, so updated_at is the close time, or the start time while the run is open.
 */
export function handlerOf(run: RunFacts, outcome: RunOutcome["outcome"]): JsonObject {
  const status = handlerStatus(run.status);
  const startedAt = iso(run.startTime);
  const completedAt = iso(run.closeTime);
  return {
    handler_id: run.workflowId,
    workflow_name: run.workflowType,
    run_id: run.runId,
    status,
    started_at: startedAt,
    updated_at: completedAt ?? startedAt,
    completed_at: completedAt,
    // LlamaIndex reports no error for a cancelled handler, only for a failed one.
    error: status === "failed" && outcome?.kind === "failure" ? outcome.failure.message : null,
    result: outcome?.kind === "result" ? json(outcome.value) : null,
  };
}

/** The event types that close a run for good; each is the stream's StopEvent. CONTINUED_AS_NEW is not: the watch follows the new run. */
const CLOSE_TYPES: ReadonlySet<WatchEventType> = new Set(["COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT"]);

/**
 * A watch event as LlamaIndex's event envelope `{value, type, types, qualified_name}`. The run's close is
 * the StopEvent, whose value is `{result}` (or, when the run did not complete, `{result: null, status,
 * error, failure}`), with the qualified name LlamaIndex clients test for. Every other event is named after
 * its type ("ProgressEvent", "ActivityScheduledEvent") and carries its fields in snake_case.
 */
export function eventEnvelope(event: WatchEvent): JsonObject {
  if (CLOSE_TYPES.has(event.type)) {
    const value: JsonObject =
      event.type === "COMPLETED"
        ? { result: json(event.data) }
        : {
            result: null,
            status: event.type === "CANCELED" ? "cancelled" : "failed",
            error: event.failure?.message ?? (event.type === "CANCELED" ? "the run was canceled" : "the run timed out"),
            failure: failureJson(event.failure),
          };
    return { value, type: "StopEvent", types: [], qualified_name: "workflows.events.StopEvent" };
  }
  const type = `${pascalCase(event.type)}Event`;
  return { value: eventValue(event), type, types: [], qualified_name: `flowgate.events.${type}` };
}

/** The envelope's value for a non-closing event: every field of the watch event, snake_case, null when absent. */
function eventValue(e: WatchEvent): JsonObject {
  return {
    event_id: e.eventId,
    run_id: e.runId,
    time: e.time.toISOString(),
    name: e.name,
    attempt: e.attempt,
    data: json(e.data),
    progress: e.progress === undefined ? null : { step: e.progress.step, percent: e.progress.percent ?? null, message: e.progress.message },
    input_request:
      e.inputRequest === undefined ? null : { name: e.inputRequest.name, prompt: e.inputRequest.prompt, schema: json(e.inputRequest.schema) },
    failure: failureJson(e.failure),
    new_run_id: e.newRunId === "" ? null : e.newRunId,
  };
}

function failureJson(f: FailureInfo | undefined): JsonValue {
  return f === undefined ? null : { message: f.message, type: f.type, stack_trace: f.stackTrace, cause: failureJson(f.cause) };
}

/** "ACTIVITY_SCHEDULED" -> "ActivityScheduled". */
function pascalCase(type: string): string {
  return type
    .toLowerCase()
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");
}

// ---- Request bodies ----

/** Keys an event envelope may have: LlamaIndex's `{type, value}` and the metadata its server adds. */
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(["type", "value", "types", "qualified_name"]);

/**
 * An event as LlamaIndex clients send one: a JSON object or a JSON string of one, either an envelope
 * `{"type": "...", "value": {...}}` (an object whose keys are the envelope's own, with a string `type`) or
 * the event's value itself. `field` names the request field, for errors.
 */
export function readEvent(raw: JsonValue | undefined, field: string): { type: string | undefined; value: JsonValue } | undefined {
  if (raw === undefined || raw === null) return undefined;
  let event: JsonValue = raw;
  if (typeof raw === "string") {
    try {
      event = JSON.parse(raw) as JsonValue;
    } catch (err) {
      throw new ConnectError(`${field}: a string must hold JSON: ${(err as Error).message}`, Code.InvalidArgument);
    }
  }
  if (isObject(event) && typeof event.type === "string" && "value" in event && Object.keys(event).every((key) => ENVELOPE_KEYS.has(key))) {
    return { type: event.type, value: event.value ?? null };
  }
  return { type: undefined, value: event };
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function iso(date: Date | undefined): string | null {
  return date === undefined ? null : date.toISOString();
}

/** A value from Temporal (a result, an event's data) as JSON: undefined is null; what JSON cannot hold goes through JSON. */
function json(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value) ?? "null") as JsonValue);
}
