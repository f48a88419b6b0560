// A run's Temporal history, read two ways: every event as readable JSON (GetWorkflowHistory), and the few
// events that matter as the domain's watch events (WatchWorkflow). Both decode payloads with the client's
// own data converter, so a run's inputs and results read as the JSON the workflow saw.
import type { LoadedDataConverter, PayloadConverter } from "@temporalio/common";
// A CommonJS module: its namespace is only reachable as the default export under Node ESM.
import protos from "@temporalio/proto";
import {
  INPUT_MEMO,
  PROGRESS_MEMO,
  type FailureInfo,
  type InputRequestInfo,
  type ProgressInfo,
  type ReadableEvent,
  type WatchEvent,
  type WatchEventType,
} from "../operations/index.js";
import { toFailureInfo } from "./failures.js";

type IHistoryEvent = protos.temporal.api.history.v1.IHistoryEvent;
type IPayload = protos.temporal.api.common.v1.IPayload;
type IPayloads = protos.temporal.api.common.v1.IPayloads;
type IFailure = protos.temporal.api.failure.v1.IFailure;
type LongLike = number | string | { toString(): string } | null | undefined;

const EventType = protos.temporal.api.enums.v1.EventType;

// ---- Readable JSON ----

/**
 * What @temporalio/proto's message "classes" are at run time: protobufjs reflection types (its root is built
 * from JSON descriptors), typed as generated static classes. The walk below reads their field descriptors.
 */
interface ReflectedType {
  readonly fullName: string;
  readonly fields: Readonly<Record<string, ReflectedField | undefined>>;
}
interface ReflectedField {
  readonly type: string;
  readonly repeated: boolean;
  readonly map: boolean;
  /** int64 and its kin, which toObject gives as decimal strings under `longs: String`. */
  readonly long: boolean;
  resolve(): { readonly resolvedType: ReflectedType | { readonly values: unknown } | null };
}

const HISTORY_EVENT = protos.temporal.api.history.v1.HistoryEvent;
const HISTORY_EVENT_TYPE = HISTORY_EVENT as unknown as ReflectedType;

/**
 * protobufjs does enums (as names), int64s (as strings, made numbers below where safe) and oneofs; bytes stay
 * bytes so that payloads decode without a base64 round trip. Fields left at their defaults are omitted.
 */
const TO_OBJECT = { enums: String, longs: String, json: true } as const;

/**
 * One history event as readable JSON: the attributes as Temporal's API defines them, with enums as names,
 * int64s as numbers (strings beyond 2^53), durations as "1.5s", timestamps as RFC 3339, bytes as base64,
 * and every payload (inputs, results, memo, search attributes, headers, failure details) decoded to its JSON
 * value; one the converter cannot read (binary, encrypted) stays `{encoding, data}` with data in base64.
 */
export function readableEvent(event: IHistoryEvent, converter: LoadedDataConverter): ReadableEvent {
  const object = HISTORY_EVENT.toObject(event as protos.temporal.api.history.v1.HistoryEvent, TO_OBJECT);
  // The attributes are a oneof of some sixty `*EventAttributes` fields; whichever is set.
  const key = Object.keys(object).find((name) => name.endsWith("EventAttributes"));
  const field = key === undefined ? undefined : HISTORY_EVENT_TYPE.fields[key];
  const attributes = key !== undefined && field !== undefined ? readableField(object[key], field, converter.payloadConverter) : {};
  return {
    eventId: toNumber(event.eventId),
    eventTime: toDate(event.eventTime),
    eventType: eventTypeName(event.eventType),
    attributes: attributes as Record<string, unknown>,
  };
}

/** "EVENT_TYPE_ACTIVITY_TASK_COMPLETED" -> "ActivityTaskCompleted"; a type newer than the SDK's protos keeps its number. */
function eventTypeName(type: protos.temporal.api.enums.v1.EventType | null | undefined): string {
  const name = EventType[type ?? 0];
  if (name === undefined) return String(type);
  return name
    .replace(/^EVENT_TYPE_/, "")
    .toLowerCase()
    .replace(/(?:^|_)([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

function readableMessage(object: Record<string, unknown>, type: ReflectedType, payloads: PayloadConverter): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const field = type.fields[key];
    // Not a field: "@type" of a google.protobuf.Any that toObject unpacked.
    json[key] = field === undefined ? value : readableField(value, field, payloads);
  }
  return json;
}

function readableField(value: unknown, field: ReflectedField, payloads: PayloadConverter): unknown {
  if (field.map) return mapValues(value as Record<string, unknown>, (item) => readableValue(item, field, payloads));
  if (field.repeated) return (value as unknown[]).map((item) => readableValue(item, field, payloads));
  return readableValue(value, field, payloads);
}

function readableValue(value: unknown, field: ReflectedField, payloads: PayloadConverter): unknown {
  const type = field.resolve().resolvedType;
  if (type !== null && "fields" in type) {
    const object = value as Record<string, unknown>;
    switch (type.fullName) {
      case ".temporal.api.common.v1.Payload":
        return payloadJson(object, payloads);
      case ".google.protobuf.Duration":
        return durationText(object);
      case ".google.protobuf.Timestamp":
        return timestampText(object);
      default:
        return readableMessage(object, type, payloads);
    }
  }
  if (field.long) return safeNumber(value as string);
  if (field.type === "bytes") return base64(value as Uint8Array);
  return value;
}

/** Proto3 JSON's duration: "90s", "1.5s", "-0.25s". */
function durationText(duration: Record<string, unknown>): string {
  const seconds = Number(duration.seconds ?? 0);
  const nanos = Number(duration.nanos ?? 0);
  const sign = seconds < 0 || nanos < 0 ? "-" : "";
  return `${sign}${Math.abs(seconds)}${fractionText(Math.abs(nanos))}s`;
}

/** Proto3 JSON's timestamp: RFC 3339 in UTC, "2024-05-01T12:00:00.123456Z". */
function timestampText(timestamp: Record<string, unknown>): string {
  const seconds = Number(timestamp.seconds ?? 0);
  const whole = new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "");
  return `${whole}${fractionText(Number(timestamp.nanos ?? 0))}Z`;
}

/** 500000000 -> ".5"; 0 -> "". */
function fractionText(nanos: number): string {
  const digits = String(nanos).padStart(9, "0").replace(/0+$/, "");
  return digits === "" ? "" : `.${digits}`;
}

function safeNumber(decimal: string): number | string {
  const value = Number(decimal);
  return Number.isSafeInteger(value) ? value : decimal;
}

// ---- Payloads ----

/** A payload the converter could not read as a JSON value, as readable JSON shows it. */
interface EncodedPayload {
  readonly encoding: string;
  /** Base64. */
  readonly data: string;
}

/**
 * The payload's JSON value (null for a payload of undefined or of nothing), or undefined when the converter
 * cannot read it as one: an unknown encoding such as an encrypted one, or binary data.
 */
function payloadValue(payload: IPayload, payloads: PayloadConverter): { value: unknown } | undefined {
  const encoding = payload.metadata?.encoding;
  if (!encoding?.length && !payload.data?.length) return { value: null };
  let value: unknown;
  try {
    value = payloads.fromPayload(payload);
  } catch {
    return undefined;
  }
  if (value instanceof Uint8Array) return undefined;
  return { value: value ?? null };
}

/** The payload's JSON value, or the payload itself when it has none. */
function payloadJson(payload: IPayload, payloads: PayloadConverter): unknown {
  const decoded = payloadValue(payload, payloads);
  if (decoded !== undefined) return decoded.value;
  const encoded: EncodedPayload = {
    encoding: Buffer.from(payload.metadata?.encoding ?? new Uint8Array()).toString("utf8"),
    data: base64(payload.data ?? new Uint8Array()),
  };
  return encoded;
}

/** Arguments as one value: the only one, an array of several, undefined for none. */
function argumentsJson(list: IPayloads | null | undefined, payloads: PayloadConverter): unknown {
  const values = (list?.payloads ?? []).map((payload) => payloadJson(payload, payloads));
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
}

/** A result: its one value, null when there is none (the workflow or update returned nothing). */
function resultJson(list: IPayloads | null | undefined, payloads: PayloadConverter): unknown {
  const first = list?.payloads?.[0];
  return first === undefined ? null : payloadJson(first, payloads);
}

// ---- The memo convention ----

/** The progress a memo reports under PROGRESS_MEMO, such as `describe()` gives it decoded. */
export function memoProgress(memo: Readonly<Record<string, unknown>>): ProgressInfo | undefined {
  return parseProgress(memo[PROGRESS_MEMO]);
}

/** The input a memo says its run waits for under INPUT_MEMO, such as `describe()` gives it decoded. */
export function memoInputRequest(memo: Readonly<Record<string, unknown>>): InputRequestInfo | undefined {
  return parseInputRequest(memo[INPUT_MEMO]);
}

/**
 * A progress report, from workers in any language, so odd fields are tolerated rather than trusted: a step
 * or message that is not a string reads as "", a percent that is not a finite number as unknown, and one
 * outside 0..100 is clamped into it.
 */
function parseProgress(value: unknown): ProgressInfo | undefined {
  if (!isPlainObject(value)) return undefined;
  const { step, percent, message } = value;
  return {
    step: typeof step === "string" ? step : "",
    percent: typeof percent === "number" && Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : undefined,
    message: typeof message === "string" ? message : "",
  };
}

/** An input request, tolerated as progress is; a null schema means any JSON, as an absent one does. */
function parseInputRequest(value: unknown): InputRequestInfo | undefined {
  if (!isPlainObject(value)) return undefined;
  const { name, prompt, schema } = value;
  return {
    name: typeof name === "string" ? name : "",
    prompt: typeof prompt === "string" ? prompt : "",
    schema: schema ?? undefined,
  };
}

/** A JSON object, not an array, null, bytes (the SDK's decoding of a binary payload) or a class instance. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// ---- Watch events ----

type WatchFields = Partial<Omit<WatchEvent, "eventId" | "runId" | "time" | "type">>;

/**
 * Turns one run's history events, read in order from its first, into watch events. Stateful: an activity's
 * completion is named after its scheduling, an update's completion after its acceptance, and INPUT_RECEIVED
 * after the WAITING_FOR_INPUT before it.
 */
export class WatchDecoder {
  /** Open activities by their ActivityTaskScheduled event id. */
  private readonly activities = new Map<number, { type: string; attempt: number }>();
  /** Accepted, not yet completed updates' names, by update id and by their UpdateAccepted event id. */
  private readonly updatesById = new Map<string, string>();
  private readonly updatesByEvent = new Map<number, string>();
  /** The input the run waits for, from its last INPUT_MEMO upsert. */
  private awaitedInput: string | undefined;

  constructor(
    private readonly runId: string,
    private readonly converter: LoadedDataConverter,
  ) {}

  /** The watch events of the run's next history event: none, one, or several (one memo upsert may report progress and await input). */
  decode(event: IHistoryEvent): WatchEvent[] {
    const payloads = this.converter.payloadConverter;
    const at = (type: WatchEventType, fields: WatchFields = {}): WatchEvent[] => [this.watchEvent(event, type, fields)];
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const a = event.workflowExecutionStartedEventAttributes;
        return at("STARTED", { name: a?.workflowType?.name ?? "", data: argumentsJson(a?.input, payloads) });
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const a = event.activityTaskScheduledEventAttributes;
        const name = a?.activityType?.name ?? "";
        this.activities.set(toNumber(event.eventId), { type: name, attempt: 0 });
        return at("ACTIVITY_SCHEDULED", { name, data: argumentsJson(a?.input, payloads) });
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        // Temporal records an activity's start only once the activity closes, with its last attempt's
        // number and the failure of the attempt before it: a retry is only seen now, just before the end.
        const a = event.activityTaskStartedEventAttributes;
        const activity = this.activities.get(toNumber(a?.scheduledEventId));
        const attempt = a?.attempt ?? 0;
        if (activity !== undefined) activity.attempt = attempt;
        if (attempt <= 1) return [];
        return at("ACTIVITY_RETRIED", { name: activity?.type ?? "", attempt, failure: this.failure(a?.lastFailure) });
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const a = event.activityTaskCompletedEventAttributes;
        return at("ACTIVITY_COMPLETED", { ...this.closeActivity(a?.scheduledEventId), data: resultJson(a?.result, payloads) });
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: {
        const a = event.activityTaskFailedEventAttributes;
        return at("ACTIVITY_FAILED", { ...this.closeActivity(a?.scheduledEventId), failure: this.failure(a?.failure) });
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const a = event.activityTaskTimedOutEventAttributes;
        return at("ACTIVITY_FAILED", { ...this.closeActivity(a?.scheduledEventId), failure: this.failure(a?.failure) });
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        // The only activity close that carries no failure: say what the workflow sees, a cancellation.
        const a = event.activityTaskCanceledEventAttributes;
        const failure: FailureInfo = { message: "activity canceled", type: "CancelledFailure", stackTrace: "", cause: undefined };
        return at("ACTIVITY_FAILED", { ...this.closeActivity(a?.scheduledEventId), failure });
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
        const a = event.workflowExecutionSignaledEventAttributes;
        return at("SIGNAL_RECEIVED", { name: a?.signalName ?? "", data: argumentsJson(a?.input, payloads) });
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        // The update's name is in the request Temporal accepted, not in the event's own fields.
        const a = event.workflowExecutionUpdateAcceptedEventAttributes;
        const name = a?.acceptedRequest?.input?.name ?? "";
        const updateId = a?.acceptedRequest?.meta?.updateId || a?.protocolInstanceId;
        if (updateId) this.updatesById.set(updateId, name);
        this.updatesByEvent.set(toNumber(event.eventId), name);
        return at("UPDATE_ACCEPTED", { name, data: argumentsJson(a?.acceptedRequest?.input?.args, payloads) });
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
        // Completion names neither the update nor its input: only its id and its acceptance's event id.
        const a = event.workflowExecutionUpdateCompletedEventAttributes;
        const updateId = a?.meta?.updateId ?? "";
        const acceptedEventId = toNumber(a?.acceptedEventId);
        const name = this.updatesById.get(updateId) ?? this.updatesByEvent.get(acceptedEventId) ?? "";
        this.updatesById.delete(updateId);
        this.updatesByEvent.delete(acceptedEventId);
        const outcome = a?.outcome;
        return outcome?.failure
          ? at("UPDATE_COMPLETED", { name, failure: this.failure(outcome.failure) })
          : at("UPDATE_COMPLETED", { name, data: resultJson(outcome?.success, payloads) });
      }
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const a = event.timerStartedEventAttributes;
        const timeout = a?.startToFireTimeout;
        const seconds = toNumber(timeout?.seconds) + (timeout?.nanos ?? 0) / 1e9;
        return at("TIMER_STARTED", { name: a?.timerId ?? "", data: seconds });
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
        return at("TIMER_FIRED", { name: event.timerFiredEventAttributes?.timerId ?? "" });
      case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
        return this.memoEvents(event);
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
        return at("CANCEL_REQUESTED");
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return at("COMPLETED", { data: resultJson(event.workflowExecutionCompletedEventAttributes?.result, payloads) });
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return at("FAILED", { failure: this.failure(event.workflowExecutionFailedEventAttributes?.failure) });
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        return at("CANCELED");
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: {
        const reason = event.workflowExecutionTerminatedEventAttributes?.reason ?? "";
        return at("TERMINATED", { failure: { message: reason, type: "TerminatedFailure", stackTrace: "", cause: undefined } });
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        return at("TIMED_OUT");
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        return at("CONTINUED_AS_NEW", { newRunId: event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? "" });
      default:
        return [];
    }
  }

  /**
   * A memo upsert under the history convention: PROGRESS_MEMO reports progress, INPUT_MEMO set to an object
   * awaits input, and cleared (the SDKs write a cleared key as a binary/null payload) ends the wait. Other
   * keys, and values the converter cannot read, say nothing.
   */
  private memoEvents(event: IHistoryEvent): WatchEvent[] {
    const fields = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields ?? {};
    const payloads = this.converter.payloadConverter;
    const events: WatchEvent[] = [];
    const progressPayload = fields[PROGRESS_MEMO];
    if (progressPayload) {
      const progress = parseProgress(payloadValue(progressPayload, payloads)?.value);
      if (progress !== undefined) events.push(this.watchEvent(event, "PROGRESS", { progress }));
    }
    const inputPayload = fields[INPUT_MEMO];
    if (inputPayload) {
      const decoded = payloadValue(inputPayload, payloads);
      const inputRequest = parseInputRequest(decoded?.value);
      if (inputRequest !== undefined) {
        this.awaitedInput = inputRequest.name;
        events.push(this.watchEvent(event, "WAITING_FOR_INPUT", { inputRequest }));
      } else if (decoded !== undefined && decoded.value === null && this.awaitedInput !== undefined) {
        // The wait is over: the input came (or the workflow gave up waiting; history cannot tell which).
        events.push(this.watchEvent(event, "INPUT_RECEIVED", { name: this.awaitedInput }));
        this.awaitedInput = undefined;
      }
    }
    return events;
  }

  /** The closed activity's type and last attempt, forgotten from here on. */
  private closeActivity(scheduledEventId: LongLike): { name: string; attempt: number } {
    const id = toNumber(scheduledEventId);
    const activity = this.activities.get(id);
    this.activities.delete(id);
    return { name: activity?.type ?? "", attempt: activity?.attempt ?? 0 };
  }

  /** A failure as the SDK reads it (its failure converter decodes encoded attributes and details), in domain terms. */
  private failure(failure: IFailure | null | undefined): FailureInfo | undefined {
    if (failure === null || failure === undefined) return undefined;
    try {
      return toFailureInfo(this.converter.failureConverter.failureToError(failure, this.converter.payloadConverter));
    } catch {
      // A failure whose encoded attributes this converter cannot read: what the proto says in plain text.
      return { message: failure.message ?? "", type: "", stackTrace: "", cause: undefined };
    }
  }

  private watchEvent(event: IHistoryEvent, type: WatchEventType, fields: WatchFields): WatchEvent {
    return {
      eventId: toNumber(event.eventId),
      runId: this.runId,
      time: toDate(event.eventTime) ?? new Date(0),
      type,
      name: "",
      attempt: 0,
      data: undefined,
      failure: undefined,
      progress: undefined,
      inputRequest: undefined,
      newRunId: "",
      ...fields,
    };
  }
}

// ---- Scalars ----

/** An int64 as protobufjs gives it (a Long from the wire, a number or string from objects) as a number. */
function toNumber(value: LongLike): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value.toString());
}

function toDate(timestamp: protos.google.protobuf.ITimestamp | null | undefined): Date | undefined {
  if (timestamp === null || timestamp === undefined) return undefined;
  return new Date(toNumber(timestamp.seconds) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6));
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function mapValues<T, U>(record: Readonly<Record<string, T>>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}
