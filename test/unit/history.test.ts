// Temporal history events read two ways: as readable JSON (every attribute, payloads decoded) and as the
// watch events of a run (the few that matter, in domain terms, with what the decoder remembers between them).
import { ApplicationFailure, DefaultFailureConverter, defaultDataConverter, defaultFailureConverter, defaultPayloadConverter } from "@temporalio/common";
import protos from "@temporalio/proto";
import { describe, expect, it } from "vitest";
import { INPUT_MEMO, PROGRESS_MEMO, type WatchEvent } from "../../src/operations/index.js";
import { memoInputRequest, memoProgress, readableEvent, WatchDecoder } from "../../src/temporal/history.js";

const { HistoryEvent } = protos.temporal.api.history.v1;
const { EventType } = protos.temporal.api.enums.v1;
type IHistoryEvent = protos.temporal.api.history.v1.IHistoryEvent;
type IPayload = protos.temporal.api.common.v1.IPayload;

const RUN_ID = "run-1";
const T0 = 1_700_000_000;

function payload(value: unknown): IPayload {
  return defaultPayloadConverter.toPayload(value);
}

function payloads(...values: unknown[]): { payloads: IPayload[] } {
  return { payloads: values.map(payload) };
}

/** A payload no converter here can read, as an encrypting codec leaves one. */
const ENCRYPTED: IPayload = { metadata: { encoding: Buffer.from("binary/encrypted") }, data: Buffer.from([1, 2, 3]) };

/** An event as the client receives it: a protobufjs message, its int64s as Longs. */
function event(eventId: number, type: protos.temporal.api.enums.v1.EventType, attributes: Record<string, unknown> = {}): IHistoryEvent {
  return HistoryEvent.fromObject({ eventId: String(eventId), eventType: type, eventTime: { seconds: T0 + eventId, nanos: 0 }, ...attributes });
}

/** The watch events of a run's history, its events numbered from 1. */
function watch(...events: (readonly [type: protos.temporal.api.enums.v1.EventType, attributes?: Record<string, unknown>])[]): WatchEvent[] {
  const decoder = new WatchDecoder(RUN_ID, defaultDataConverter);
  return events.flatMap(([type, attributes], index) => decoder.decode(event(index + 1, type, attributes)));
}

/** What tests look at in a watch event: its type and the fields set. */
function brief(e: WatchEvent): Partial<WatchEvent> {
  return Object.fromEntries(Object.entries(e).filter(([key, value]) => !["eventId", "runId", "time"].includes(key) && value !== undefined && value !== "" && value !== 0));
}

const STARTED = (...input: unknown[]) =>
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, { workflowExecutionStartedEventAttributes: { workflowType: { name: "order" }, input: payloads(...input) } }] as const;

function applicationFailure(message: string, type: string, stackTrace = ""): Record<string, unknown> {
  return { message, stackTrace, applicationFailureInfo: { type } };
}

describe("readableEvent", () => {
  it("names the event type without its prefix and gives int64s as numbers", () => {
    const readable = readableEvent(
      event(42, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, {
        activityTaskCompletedEventAttributes: { scheduledEventId: "40", startedEventId: "41", result: payloads({ ok: true }), identity: "worker" },
      }),
      defaultDataConverter,
    );
    expect(readable).toEqual({
      eventId: 42,
      eventTime: new Date((T0 + 42) * 1000),
      eventType: "ActivityTaskCompleted",
      attributes: { scheduledEventId: 40, startedEventId: 41, result: { payloads: [{ ok: true }] }, identity: "worker" },
    });
  });

  it("names every event type Temporal has in PascalCase", () => {
    const names = Object.entries(EventType)
      .filter(([key]) => key.startsWith("EVENT_TYPE_") && key !== "EVENT_TYPE_UNSPECIFIED")
      .map(([, value]) => readableEvent(HistoryEvent.fromObject({ eventId: 1, eventType: value }), defaultDataConverter).eventType);
    expect(names.length).toBeGreaterThan(50);
    for (const name of names) expect(name).toMatch(/^(?:[A-Z][a-z0-9]+)+$/);
    expect(names).toContain("WorkflowExecutionUpdateAccepted");
    expect(names).toContain("WorkflowExecutionContinuedAsNew");
  });

  it("gives enums as names, durations as seconds, timestamps as RFC 3339, bytes as base64, and int64s past 2^53 as strings", () => {
    const { attributes } = readableEvent(
      event(1, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, {
        workflowExecutionStartedEventAttributes: {
          taskQueue: { name: "q", kind: "TASK_QUEUE_KIND_NORMAL" },
          workflowRunTimeout: { seconds: 90, nanos: 500_000_000 },
          workflowTaskTimeout: { seconds: 10 },
          workflowExecutionExpirationTime: { seconds: T0, nanos: 123_456_000 },
          prevAutoResetPoints: { points: [{ buildId: "b", firstWorkflowTaskCompletedId: "9007199254740993" }] },
          completionCallbacks: [{ internal: { data: Buffer.from("hi") } }],
        },
      }),
      defaultDataConverter,
    );
    expect(attributes).toEqual({
      taskQueue: { name: "q", kind: "TASK_QUEUE_KIND_NORMAL" },
      workflowRunTimeout: "90.5s",
      workflowTaskTimeout: "10s",
      workflowExecutionExpirationTime: "2023-11-14T22:13:20.123456Z",
      prevAutoResetPoints: { points: [{ buildId: "b", firstWorkflowTaskCompletedId: "9007199254740993" }] },
      completionCallbacks: [{ internal: { data: "aGk=" } }],
    });
  });

  it("decodes every payload: inputs, memo, search attributes, header and failure details", () => {
    const encodedFailure = defaultFailureConverter.errorToFailure(ApplicationFailure.create({ message: "m", type: "T", details: [3] }), defaultPayloadConverter);
    const { attributes } = readableEvent(
      event(1, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, {
        workflowExecutionStartedEventAttributes: {
          workflowType: { name: "add" },
          input: payloads(1, "two", { three: [3] }),
          memo: { fields: { owner: payload("ann"), [PROGRESS_MEMO]: payload({ step: "a" }) } },
          searchAttributes: { indexedFields: { CustomKeywordField: payload("gold") } },
          header: { fields: { trace: payload({ id: "t1" }) } },
          continuedFailure: encodedFailure,
        },
      }),
      defaultDataConverter,
    );
    expect(attributes).toMatchObject({
      workflowType: { name: "add" },
      input: { payloads: [1, "two", { three: [3] }] },
      memo: { fields: { owner: "ann", [PROGRESS_MEMO]: { step: "a" } } },
      searchAttributes: { indexedFields: { CustomKeywordField: "gold" } },
      header: { fields: { trace: { id: "t1" } } },
      continuedFailure: { message: "m", applicationFailureInfo: { type: "T", details: { payloads: [3] } } },
    });
  });

  it("leaves a payload the converter cannot read encoded, and shows one of undefined as null", () => {
    const { attributes } = readableEvent(
      event(1, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, {
        workflowExecutionSignaledEventAttributes: { signalName: "s", input: { payloads: [ENCRYPTED, payload(new Uint8Array([4, 5])), payload(undefined)] } },
      }),
      defaultDataConverter,
    );
    expect(attributes).toEqual({
      signalName: "s",
      input: {
        payloads: [
          { encoding: "binary/encrypted", data: "AQID" },
          { encoding: "binary/plain", data: "BAU=" },
          null,
        ],
      },
    });
  });

  it("gives an event without attributes empty ones", () => {
    const readable = readableEvent(HistoryEvent.fromObject({ eventId: 3, eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED }), defaultDataConverter);
    expect(readable).toEqual({ eventId: 3, eventTime: undefined, eventType: "WorkflowTaskScheduled", attributes: {} });
  });
});

describe("WatchDecoder", () => {
  it("gives each event its history event id, run id and time, and defaults the fields it does not carry", () => {
    const [started] = watch(STARTED({ id: 1 }));
    expect(started).toEqual({
      eventId: 1,
      runId: RUN_ID,
      time: new Date((T0 + 1) * 1000),
      type: "STARTED",
      name: "order",
      attempt: 0,
      data: { id: 1 },
      failure: undefined,
      progress: undefined,
      inputRequest: undefined,
      newRunId: "",
    });
  });

  it("gives a run's input as its one argument, an array of several, or nothing", () => {
    expect(watch(STARTED({ id: 1 }))[0]?.data).toEqual({ id: 1 });
    expect(watch(STARTED(1, 2))[0]?.data).toEqual([1, 2]);
    expect(watch(STARTED())[0]?.data).toBeUndefined();
  });

  it("names an activity's events after its type, and shows a retry just before its completion", () => {
    const events = watch(
      STARTED(),
      [EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED],
      [EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, { activityTaskScheduledEventAttributes: { activityId: "1", activityType: { name: "writeSection" }, input: payloads({ index: 2 }) } }],
      [EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { scheduledEventId: 3, attempt: 2, lastFailure: applicationFailure("flaky", "Flaky") } }],
      [EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, { activityTaskCompletedEventAttributes: { scheduledEventId: 3, startedEventId: 4, result: payloads("section 2") } }],
    );
    expect(events.map(brief)).toEqual([
      { type: "STARTED", name: "order" },
      { type: "ACTIVITY_SCHEDULED", name: "writeSection", data: { index: 2 } },
      { type: "ACTIVITY_RETRIED", name: "writeSection", attempt: 2, failure: { message: "flaky", type: "Flaky", stackTrace: "", cause: undefined } },
      { type: "ACTIVITY_COMPLETED", name: "writeSection", attempt: 2, data: "section 2" },
    ]);
    expect(events.map((e) => e.eventId)).toEqual([1, 3, 4, 5]);
  });

  it("says nothing of a first attempt's start, and reports an activity that failed, timed out or was canceled", () => {
    const scheduled = (id: number) =>
      [EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, { activityTaskScheduledEventAttributes: { activityId: String(id), activityType: { name: `a${id}` } } }] as const;
    const startedFirst = (scheduledEventId: number) =>
      [EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { scheduledEventId, attempt: 1 } }] as const;
    const events = watch(
      STARTED(),
      scheduled(2),
      scheduled(3),
      scheduled(4),
      startedFirst(2),
      [EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED, { activityTaskFailedEventAttributes: { scheduledEventId: 2, failure: applicationFailure("no stock", "OutOfStock") } }],
      startedFirst(3),
      [
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        { activityTaskTimedOutEventAttributes: { scheduledEventId: 3, failure: { message: "activity StartToClose timeout", timeoutFailureInfo: { timeoutType: "TIMEOUT_TYPE_START_TO_CLOSE" } } } },
      ],
      [EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED, { activityTaskCanceledEventAttributes: { scheduledEventId: 4 } }],
    );
    expect(events.map(brief)).toEqual([
      { type: "STARTED", name: "order" },
      { type: "ACTIVITY_SCHEDULED", name: "a2" },
      { type: "ACTIVITY_SCHEDULED", name: "a3" },
      { type: "ACTIVITY_SCHEDULED", name: "a4" },
      { type: "ACTIVITY_FAILED", name: "a2", attempt: 1, failure: { message: "no stock", type: "OutOfStock", stackTrace: "", cause: undefined } },
      { type: "ACTIVITY_FAILED", name: "a3", attempt: 1, failure: { message: "activity StartToClose timeout", type: "TimeoutFailure", stackTrace: "", cause: undefined } },
      { type: "ACTIVITY_FAILED", name: "a4", failure: { message: "activity canceled", type: "CancelledFailure", stackTrace: "", cause: undefined } },
    ]);
  });

  it("converts failures as the SDK reads them, with their causes, and stack traces cut to file names", () => {
    const failure = {
      ...applicationFailure("order failed", "OrderError", "Error: order failed\n    at run (/srv/app/workflows.ts:8:27)"),
      cause: applicationFailure("card declined", "CardError"),
    };
    const [, failed] = watch(STARTED(), [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, { workflowExecutionFailedEventAttributes: { failure } }]);
    expect(brief(failed!)).toEqual({
      type: "FAILED",
      failure: {
        message: "order failed",
        type: "OrderError",
        stackTrace: "Error: order failed\n    at run (workflows.ts:8:27)",
        cause: { message: "card declined", type: "CardError", stackTrace: "", cause: undefined },
      },
    });
  });

  it("reads a failure whose message and stack the SDK encoded into a payload", () => {
    const encoding = new DefaultFailureConverter({ encodeCommonAttributes: true });
    const encoded = encoding.errorToFailure(ApplicationFailure.create({ message: "secret", type: "T" }), defaultPayloadConverter);
    expect(encoded.message).toBe("Encoded failure");
    const decoder = new WatchDecoder(RUN_ID, defaultDataConverter);
    const [failed] = decoder.decode(event(5, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, { workflowExecutionFailedEventAttributes: { failure: encoded } }));
    expect(failed?.failure).toMatchObject({ message: "secret", type: "T" });
    // Readable JSON shows the encoded attributes decoded, as they are recorded.
    const { attributes } = readableEvent(event(5, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, { workflowExecutionFailedEventAttributes: { failure: encoded } }), defaultDataConverter);
    expect(attributes).toMatchObject({ failure: { message: "Encoded failure", encodedAttributes: { message: "secret" } } });
  });

  it("gives signals and updates their names and inputs, an update's completion named after its acceptance", () => {
    const accepted = (updateId: string, name: string, ...args: unknown[]) =>
      [
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        {
          workflowExecutionUpdateAcceptedEventAttributes: {
            protocolInstanceId: updateId,
            acceptedRequestMessageId: `${updateId}/request`,
            acceptedRequest: { meta: { updateId }, input: { name, args: payloads(...args) } },
          },
        },
      ] as const;
    const events = watch(
      STARTED(),
      [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, { workflowExecutionSignaledEventAttributes: { signalName: "poke", input: payloads({ n: 1 }) } }],
      accepted("u1", "decision", { approved: true }),
      accepted("u2", "rename", "a", "b"),
      [
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        { workflowExecutionUpdateCompletedEventAttributes: { meta: { updateId: "u2" }, acceptedEventId: 4, outcome: { failure: applicationFailure("no", "Refused") } } },
      ],
      [
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        { workflowExecutionUpdateCompletedEventAttributes: { meta: { updateId: "u1" }, acceptedEventId: 3, outcome: { success: payloads("ok") } } },
      ],
    );
    expect(events.map(brief)).toEqual([
      { type: "STARTED", name: "order" },
      { type: "SIGNAL_RECEIVED", name: "poke", data: { n: 1 } },
      { type: "UPDATE_ACCEPTED", name: "decision", data: { approved: true } },
      { type: "UPDATE_ACCEPTED", name: "rename", data: ["a", "b"] },
      { type: "UPDATE_COMPLETED", name: "rename", failure: { message: "no", type: "Refused", stackTrace: "", cause: undefined } },
      { type: "UPDATE_COMPLETED", name: "decision", data: "ok" },
    ]);
  });

  it("names an update's completion by its acceptance's event id when it carries no update id", () => {
    const events = watch(
      STARTED(),
      [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, { workflowExecutionUpdateAcceptedEventAttributes: { acceptedRequest: { input: { name: "decision" } } } }],
      [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, { workflowExecutionUpdateCompletedEventAttributes: { acceptedEventId: 2, outcome: { success: payloads(undefined) } } }],
    );
    expect(events.map(brief).at(-1)).toEqual({ type: "UPDATE_COMPLETED", name: "decision", data: null });
  });

  it("gives a timer's id and its duration in seconds", () => {
    const events = watch(
      STARTED(),
      [EventType.EVENT_TYPE_TIMER_STARTED, { timerStartedEventAttributes: { timerId: "1", startToFireTimeout: { seconds: 1, nanos: 500_000_000 } } }],
      [EventType.EVENT_TYPE_TIMER_FIRED, { timerFiredEventAttributes: { timerId: "1", startedEventId: 2 } }],
    );
    expect(events.slice(1).map(brief)).toEqual([
      { type: "TIMER_STARTED", name: "1", data: 1.5 },
      { type: "TIMER_FIRED", name: "1" },
    ]);
  });

  it("reads progress and the input awaited from memo upserts, naming the input received after the wait", () => {
    const upsert = (fields: Record<string, IPayload>) =>
      [EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED, { workflowPropertiesModifiedEventAttributes: { upsertedMemo: { fields } } }] as const;
    const events = watch(
      STARTED(),
      upsert({ [PROGRESS_MEMO]: payload({ step: "pricing", percent: 0, message: "pricing 5 apples" }) }),
      upsert({
        [PROGRESS_MEMO]: payload({ step: "waiting" }),
        [INPUT_MEMO]: payload({ name: "decision", prompt: "Approve?", schema: { type: "object" } }),
      }),
      upsert({ unrelated: payload(1) }),
      // The SDKs write a cleared key as a payload of undefined (binary/null).
      upsert({ [INPUT_MEMO]: payload(undefined) }),
      upsert({ [INPUT_MEMO]: payload(null) }),
    );
    expect(events.map(brief)).toEqual([
      { type: "STARTED", name: "order" },
      { type: "PROGRESS", progress: { step: "pricing", percent: 0, message: "pricing 5 apples" } },
      { type: "PROGRESS", progress: { step: "waiting", percent: undefined, message: "" } },
      { type: "WAITING_FOR_INPUT", inputRequest: { name: "decision", prompt: "Approve?", schema: { type: "object" } } },
      { type: "INPUT_RECEIVED", name: "decision" },
    ]);
    expect(events[2]?.eventId).toBe(events[3]?.eventId);
  });

  it("says nothing of memo values it cannot read or that follow no convention", () => {
    const upsert = (fields: Record<string, IPayload>) =>
      [EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED, { workflowPropertiesModifiedEventAttributes: { upsertedMemo: { fields } } }] as const;
    const events = watch(
      STARTED(),
      upsert({ [PROGRESS_MEMO]: ENCRYPTED, [INPUT_MEMO]: ENCRYPTED }),
      upsert({ [PROGRESS_MEMO]: payload("half way"), [INPUT_MEMO]: payload([1]) }),
      upsert({ [PROGRESS_MEMO]: payload(null), [INPUT_MEMO]: payload(null) }),
    );
    expect(events.map((e) => e.type)).toEqual(["STARTED"]);
  });

  it("reports the run's cancellation request and each way it can close", () => {
    const closes = [
      [[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, { workflowExecutionCompletedEventAttributes: { result: payloads({ total: 3 }) } }], { type: "COMPLETED", data: { total: 3 } }],
      [[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, { workflowExecutionCompletedEventAttributes: { result: payloads(undefined) } }], { type: "COMPLETED", data: null }],
      [[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, { workflowExecutionCompletedEventAttributes: {} }], { type: "COMPLETED", data: null }],
      [[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, { workflowExecutionCanceledEventAttributes: {} }], { type: "CANCELED" }],
      [
        [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, { workflowExecutionTerminatedEventAttributes: { reason: "stuck" } }],
        { type: "TERMINATED", failure: { message: "stuck", type: "TerminatedFailure", stackTrace: "", cause: undefined } },
      ],
      [[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, { workflowExecutionTimedOutEventAttributes: {} }], { type: "TIMED_OUT" }],
      [
        [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, { workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: "run-2" } }],
        { type: "CONTINUED_AS_NEW", newRunId: "run-2" },
      ],
    ] as const;
    for (const [close, expected] of closes) {
      const events = watch(STARTED(), [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, { workflowExecutionCancelRequestedEventAttributes: {} }], close);
      expect(events.slice(1).map(brief)).toEqual([{ type: "CANCEL_REQUESTED" }, expected]);
    }
  });

  it("says nothing of Temporal's own bookkeeping", () => {
    const events = watch(
      STARTED(),
      [EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, { workflowTaskScheduledEventAttributes: {} }],
      [EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, { workflowTaskStartedEventAttributes: {} }],
      [EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, { workflowTaskCompletedEventAttributes: {} }],
      [EventType.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { markerName: "patch" } }],
      [EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, { upsertWorkflowSearchAttributesEventAttributes: {} }],
    );
    expect(events.map((e) => e.type)).toEqual(["STARTED"]);
  });
});

describe("memoProgress and memoInputRequest", () => {
  it("read the convention from a decoded memo", () => {
    const memo = { [PROGRESS_MEMO]: { step: "b", percent: 40, message: "m" }, [INPUT_MEMO]: { name: "decision", prompt: "Approve?" }, other: 1 };
    expect(memoProgress(memo)).toEqual({ step: "b", percent: 40, message: "m" });
    expect(memoInputRequest(memo)).toEqual({ name: "decision", prompt: "Approve?", schema: undefined });
  });

  it("tolerate odd fields from workers in other languages", () => {
    expect(memoProgress({ [PROGRESS_MEMO]: { step: 3, percent: "half", message: null } })).toEqual({ step: "", percent: undefined, message: "" });
    expect(memoProgress({ [PROGRESS_MEMO]: { step: "a", percent: Number.NaN } })?.percent).toBeUndefined();
    expect(memoProgress({ [PROGRESS_MEMO]: { step: "a", percent: 100.0000001 } })?.percent).toBe(100);
    expect(memoInputRequest({ [INPUT_MEMO]: { name: 1, schema: null } })).toEqual({ name: "", prompt: "", schema: undefined });
  });

  it("find nothing where the memo holds no object under their key", () => {
    for (const value of [undefined, null, "text", [1], new Uint8Array([1])]) {
      expect(memoProgress({ [PROGRESS_MEMO]: value })).toBeUndefined();
      expect(memoInputRequest({ [INPUT_MEMO]: value })).toBeUndefined();
    }
    expect(memoProgress({})).toBeUndefined();
  });
});
