// The wire rules of a server-streaming RPC served over REST, as pure functions: which format the client
// gets, how each message, heartbeat and error is framed, the SSE event id of a message, and how an SSE
// Last-Event-ID resumes a stream. stream.ts writes them; nothing here knows a service.
//
// Formats, chosen by the request's Accept header:
//   text/event-stream (listed with q > 0)  Server-Sent Events: `id: <id>\ndata: <json>\n\n` per message
//   anything else                          NDJSON (application/x-ndjson): one JSON value per line
//
// Event ids, for any output message (the rule is generic, WatchWorkflow is its first user): when the output
// message has a scalar field named `event_id`, a message's id is that value, prefixed with `<run_id>/` when
// the message also has a string field `run_id` that is not empty ("5", or "0c1f.../5"). A workflow that
// continues as new starts its history ids again at 1, so the run is part of the id. Messages without an
// event_id field get no id line.
//
// Resuming: a request header `Last-Event-ID: <run_id>/<n>` or `Last-Event-ID: <n>` (what a browser's
// EventSource sends when it reconnects; any client may send it, on either format) sets the request field
// `after_event_id` to n and, when a run is named, `run_id` to it, overriding the path, query and body. It
// applies when the input message has an integer field `after_event_id`; the run part, when it also has a
// string field `run_id` (otherwise it is ignored). An empty header is no header. Anything else (not a
// decimal number, an empty run, a number out of the field's range) is InvalidArgument naming the header.
//
// Heartbeats: after `heartbeatMs` without a write, SSE gets the comment line `: heartbeat\n\n` (EventSource
// ignores it) and NDJSON an empty line (which NDJSON readers must skip, as most already do), so proxies and load balancers see
// traffic on an idle stream. No `retry:` field is sent: how soon to reconnect is the client's policy, and
// the browser's default (a few seconds) suits a watch.
//
// Errors after the first write (a message or a heartbeat: the 200 has gone out) end the stream in-band:
// SSE `event: error\ndata: {"code":...,"message":...}\n\n`; NDJSON `{"error":{"code":...,"message":...}}`.
// The object is the Connect error JSON, the REST error body, with `details` when there are any.
import { ScalarType, type DescField, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

export type StreamFormat = "sse" | "ndjson";

export const CONTENT_TYPE_BY_FORMAT: Readonly<Record<StreamFormat, string>> = {
  sse: "text/event-stream; charset=utf-8",
  ndjson: "application/x-ndjson; charset=utf-8",
};

/** SSE when Accept lists text/event-stream (not refused with q=0); NDJSON otherwise, Accept or not. */
export function negotiateStreamFormat(accept: string | undefined): StreamFormat {
  for (const range of (accept ?? "").split(",")) {
    const [type = "", ...params] = range.split(";").map((p) => p.trim().toLowerCase());
    if (type !== "text/event-stream") continue;
    const q = params.find((p) => /^q\s*=/.test(p));
    if (q === undefined || Number(q.slice(q.indexOf("=") + 1)) > 0) return "sse";
  }
  return "ndjson";
}

/** One message, framed; `id` only for SSE, and only when the message has one. */
export function formatMessage(format: StreamFormat, value: JsonValue, id: string | undefined): string {
  const json = JSON.stringify(value);
  if (format === "ndjson") return `${json}\n`;
  return id === undefined ? `data: ${json}\n\n` : `id: ${id}\ndata: ${json}\n\n`;
}

export function formatHeartbeat(format: StreamFormat): string {
  return format === "sse" ? ": heartbeat\n\n" : "\n";
}

/** The stream's last frame when it fails after the first write; `error` is the Connect error JSON. */
export function formatError(format: StreamFormat, error: JsonObject): string {
  return format === "sse" ? `event: error\ndata: ${JSON.stringify(error)}\n\n` : `${JSON.stringify({ error })}\n`;
}

/**
 * The SSE id of a message of `output` from its proto3 JSON (proto field names), or undefined when `output`
 * has no `event_id` field (the function is built once per method). An id an SSE line cannot carry (a line
 * break or NUL in the run id) is left out rather than sent altered, since it could not resume correctly.
 */
export function eventIdReader(output: DescMessage): ((json: JsonObject) => string | undefined) | undefined {
  const eventId = output.fields.find((f) => f.name === "event_id");
  if (eventId?.fieldKind !== "scalar") return undefined;
  const runId = output.fields.find((f) => f.name === "run_id" && f.fieldKind === "scalar" && f.scalar === ScalarType.STRING);
  return (json) => {
    const value = json[eventId.name];
    if (value === undefined || value === null || typeof value === "object") return undefined;
    const run = runId === undefined ? undefined : json[runId.name];
    const id = typeof run === "string" && run !== "" ? `${run}/${String(value)}` : String(value);
    return /[\r\n\0]/.test(id) ? undefined : id;
  };
}

/** The largest value of each integer scalar type, for checking a resume position before decoding. */
const INTEGER_MAX: ReadonlyMap<ScalarType, bigint> = new Map([
  [ScalarType.INT32, 2n ** 31n - 1n],
  [ScalarType.SINT32, 2n ** 31n - 1n],
  [ScalarType.SFIXED32, 2n ** 31n - 1n],
  [ScalarType.UINT32, 2n ** 32n - 1n],
  [ScalarType.FIXED32, 2n ** 32n - 1n],
  [ScalarType.INT64, 2n ** 63n - 1n],
  [ScalarType.SINT64, 2n ** 63n - 1n],
  [ScalarType.SFIXED64, 2n ** 63n - 1n],
  [ScalarType.UINT64, 2n ** 64n - 1n],
  [ScalarType.FIXED64, 2n ** 64n - 1n],
]);

/** A resume position: the event number, and the run it belongs to when the id named one. */
export interface LastEventId {
  readonly runId?: string;
  readonly eventId: bigint;
}

/** Parses `<run_id>/<n>` or `<n>` (the run id may itself contain "/": the number is after the last one). */
export function parseLastEventId(header: string): LastEventId {
  const slash = header.lastIndexOf("/");
  const runId = slash === -1 ? undefined : header.slice(0, slash);
  const number = header.slice(slash + 1);
  if (!/^\d{1,20}$/.test(number) || runId === "") {
    throw new ConnectError(
      `Last-Event-ID header ${JSON.stringify(header)} is not "<run_id>/<event_id>" or "<event_id>" (a decimal number)`,
      Code.InvalidArgument,
    );
  }
  return runId === undefined ? { eventId: BigInt(number) } : { runId, eventId: BigInt(number) };
}

/**
 * Applies a Last-Event-ID header to the request's proto3 JSON (proto field names), by the rule above.
 * Returns the JSON unchanged when the header is absent or empty, or the input has no `after_event_id`.
 */
export function applyLastEventId(input: DescMessage, json: JsonObject, header: string | undefined): JsonObject {
  const text = header?.trim() ?? "";
  if (text === "") return json;
  const after = input.fields.find((f) => f.name === "after_event_id");
  const max = after?.fieldKind === "scalar" ? INTEGER_MAX.get(after.scalar) : undefined;
  if (after === undefined || max === undefined) return json;
  const { runId, eventId } = parseLastEventId(text);
  if (eventId > max) {
    throw new ConnectError(`Last-Event-ID header ${JSON.stringify(text)}: event id ${eventId} is out of range`, Code.InvalidArgument);
  }
  const out = { ...json };
  setTopLevel(out, after, eventId.toString());
  const run = input.fields.find((f) => f.name === "run_id" && f.fieldKind === "scalar" && f.scalar === ScalarType.STRING);
  if (runId !== undefined && run !== undefined) setTopLevel(out, run, runId);
  return out;
}

/** Sets a top-level field by its proto name, dropping its JSON-name spelling if the request used that. */
function setTopLevel(json: JsonObject, field: DescField, value: JsonValue): void {
  delete json[field.jsonName];
  json[field.name] = value;
}
