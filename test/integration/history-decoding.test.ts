// The history decoder on real histories: runs of the test worker's workflows on the Temporal dev server,
// their histories fetched as the engine fetches them (getWorkflowExecutionHistory), read as readable JSON
// and as watch events. Proves the shapes the unit tests build by hand are the shapes Temporal sends.
import { randomUUID } from "node:crypto";
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from "@temporalio/client";
import type protos from "@temporalio/proto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { WatchEvent } from "../../src/operations/index.js";
import { memoInputRequest, memoProgress, readableEvent, WatchDecoder } from "../../src/temporal/history.js";
import { TEST_NAMESPACE, TEST_TASK_QUEUE } from "../helpers/constants.js";

let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address: inject("temporalAddress") });
  client = new Client({ connection, namespace: TEST_NAMESPACE });
});

afterAll(async () => {
  await connection?.close();
});

function start(workflowType: string, ...args: unknown[]): Promise<WorkflowHandleWithFirstExecutionRunId> {
  return client.workflow.start(workflowType, { taskQueue: TEST_TASK_QUEUE, workflowId: `history-${workflowType}-${randomUUID()}`, args });
}

/** A run's whole history, page by page, as the engine reads it. */
async function historyOf(workflowId: string, runId: string): Promise<protos.temporal.api.history.v1.IHistoryEvent[]> {
  const events: protos.temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const res = await client.workflowService.getWorkflowExecutionHistory({
      namespace: TEST_NAMESPACE,
      execution: { workflowId, runId },
      maximumPageSize: 5,
      nextPageToken,
    });
    events.push(...(res.history?.events ?? []));
    nextPageToken = res.nextPageToken?.length ? res.nextPageToken : undefined;
  } while (nextPageToken !== undefined);
  return events;
}

async function watchEventsOf(handle: WorkflowHandleWithFirstExecutionRunId, runId = handle.firstExecutionRunId): Promise<WatchEvent[]> {
  const decoder = new WatchDecoder(runId, client.options.loadedDataConverter);
  return (await historyOf(handle.workflowId, runId)).flatMap((e) => decoder.decode(e));
}

function brief(e: WatchEvent): Partial<WatchEvent> {
  return Object.fromEntries(Object.entries(e).filter(([key, value]) => !["eventId", "runId", "time"].includes(key) && value !== undefined && value !== "" && value !== 0));
}

describe("readableEvent on a real history", () => {
  it("reads every event of a run with activities, a retry, timers and memo upserts, as JSON", async () => {
    const handle = await start("report", { steps: 2, step_seconds: 0.1 });
    await handle.result();
    const events = await historyOf(handle.workflowId, handle.firstExecutionRunId);
    const readable = events.map((e) => readableEvent(e, client.options.loadedDataConverter));

    expect(readable.map((e) => e.eventId)).toEqual(events.map((_e, index) => index + 1));
    for (const e of readable) expect(e.eventTime).toBeInstanceOf(Date);
    // JSON through and through: nothing lost or changed by a JSON round trip (no Longs, bytes, undefineds).
    expect(JSON.parse(JSON.stringify(readable.map((e) => e.attributes)))).toEqual(readable.map((e) => e.attributes));

    const types = readable.map((e) => e.eventType);
    expect(types[0]).toBe("WorkflowExecutionStarted");
    expect(types.at(-1)).toBe("WorkflowExecutionCompleted");
    expect(types).toEqual(expect.arrayContaining(["ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted", "TimerStarted", "TimerFired", "WorkflowPropertiesModified"]));

    expect(readable[0]?.attributes).toMatchObject({
      workflowType: { name: "report" },
      taskQueue: { name: TEST_TASK_QUEUE, kind: "TASK_QUEUE_KIND_NORMAL" },
      input: { payloads: [{ steps: 2, step_seconds: 0.1 }] },
      workflowTaskTimeout: "10s",
      attempt: 1,
    });
    const timer = readable.find((e) => e.eventType === "TimerStarted");
    expect(timer?.attributes).toMatchObject({ startToFireTimeout: "0.1s", workflowTaskCompletedEventId: expect.any(Number) });
    const retried = readable.find((e) => e.eventType === "ActivityTaskStarted" && e.attributes.attempt === 2);
    expect(retried?.attributes).toMatchObject({ lastFailure: { message: expect.stringContaining("fails on purpose"), applicationFailureInfo: { type: "Error" } } });
    expect(readable.at(-1)?.attributes).toMatchObject({ result: { payloads: [{ sections: ["Section 1 of 2", "Section 2 of 2"], steps: 2 }] } });
  });
});

describe("WatchDecoder on real histories", () => {
  it("follows a run's activities, retry, timer, progress and result", async () => {
    const handle = await start("report", { steps: 2, step_seconds: 0.1 });
    await handle.result();
    const events = await watchEventsOf(handle);
    expect(events.map(brief)).toEqual([
      { type: "STARTED", name: "report", data: { steps: 2, step_seconds: 0.1 } },
      { type: "PROGRESS", progress: { step: "section 1", percent: 0, message: "writing section 1 of 2" } },
      { type: "ACTIVITY_SCHEDULED", name: "writeSection", data: { index: 1, of: 2 } },
      { type: "ACTIVITY_COMPLETED", name: "writeSection", attempt: 1, data: "Section 1 of 2" },
      { type: "TIMER_STARTED", name: expect.any(String), data: 0.1 },
      { type: "TIMER_FIRED", name: expect.any(String) },
      { type: "PROGRESS", progress: { step: "section 2", percent: 50, message: "writing section 2 of 2" } },
      { type: "ACTIVITY_SCHEDULED", name: "writeSection", data: { index: 2, of: 2 } },
      {
        type: "ACTIVITY_RETRIED",
        name: "writeSection",
        attempt: 2,
        failure: { message: expect.stringContaining("fails on purpose"), type: "Error", stackTrace: expect.any(String), cause: undefined },
      },
      { type: "ACTIVITY_COMPLETED", name: "writeSection", attempt: 2, data: "Section 2 of 2" },
      { type: "PROGRESS", progress: { step: "done", percent: 100, message: "2 sections written" } },
      { type: "COMPLETED", data: { sections: ["Section 1 of 2", "Section 2 of 2"], steps: 2 } },
    ]);
    // The worker's stack, without its directories.
    expect(events.find((e) => e.type === "ACTIVITY_RETRIED")?.failure?.stackTrace).toMatch(/at writeSection \(activities\.ts:\d+:\d+\)/);
    const ids = events.map((e) => e.eventId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.runId))).toEqual(new Set([handle.firstExecutionRunId]));
  });

  it("follows a wait for input answered by an update, and the memo describe() gives", async () => {
    const handle = await start("approval", { request: "a refund", timeout_seconds: 60 });
    // While it waits, the memo describe() decodes says what for.
    await expect.poll(async () => memoInputRequest((await handle.describe()).memo ?? {})).toMatchObject({ name: "decision" });
    expect(memoProgress((await handle.describe()).memo ?? {})).toMatchObject({ step: "waiting for a decision", percent: undefined });
    await handle.executeUpdate("decision", { args: [{ approved: true, comment: "fine" }] });
    await handle.result();
    expect(memoInputRequest((await handle.describe()).memo ?? {})).toBeUndefined();

    const events = (await watchEventsOf(handle)).map(brief);
    expect(events[0]).toEqual({ type: "STARTED", name: "approval", data: { request: "a refund", timeout_seconds: 60 } });
    expect(events).toContainEqual({
      type: "WAITING_FOR_INPUT",
      inputRequest: { name: "decision", prompt: expect.stringContaining("a refund"), schema: expect.objectContaining({ type: "object" }) },
    });
    const from = events.findIndex((e) => e.type === "UPDATE_ACCEPTED");
    expect(events[from]).toEqual({ type: "UPDATE_ACCEPTED", name: "decision", data: { approved: true, comment: "fine" } });
    expect(events.slice(from)).toContainEqual({ type: "UPDATE_COMPLETED", name: "decision", data: { approved: true, comment: "fine" } });
    expect(events.slice(from)).toContainEqual({ type: "INPUT_RECEIVED", name: "decision" });
    expect(events.at(-1)).toEqual({ type: "COMPLETED", data: { approved: true, comment: "fine", decided_by: "update" } });
  });

  it("follows a wait for input answered by a signal", async () => {
    const handle = await start("approval", { request: "a loan", timeout_seconds: 60 });
    await expect.poll(async () => memoInputRequest((await handle.describe()).memo ?? {})).toMatchObject({ name: "decision" });
    await handle.signal("decision", { approved: false, comment: "too much" });
    await handle.result();
    const events = (await watchEventsOf(handle)).map(brief);
    const from = events.findIndex((e) => e.type === "SIGNAL_RECEIVED");
    expect(events[from]).toEqual({ type: "SIGNAL_RECEIVED", name: "decision", data: { approved: false, comment: "too much" } });
    expect(events.slice(from)).toContainEqual({ type: "INPUT_RECEIVED", name: "decision" });
  });

  it("gives several arguments as an array", async () => {
    const handle = await start("add", 1, 2);
    await handle.result();
    expect((await watchEventsOf(handle)).map(brief)).toEqual([
      { type: "STARTED", name: "add", data: [1, 2] },
      { type: "COMPLETED", data: 3 },
    ]);
  });

  it("reports a failure with its type", async () => {
    const handle = await start("fail", { message: "on purpose" });
    await expect(handle.result()).rejects.toThrow();
    const events = await watchEventsOf(handle);
    expect(brief(events.at(-1)!)).toMatchObject({ type: "FAILED", failure: { message: "on purpose", type: "FixtureError" } });
  });

  it("names the run a run continued as", async () => {
    const handle = await client.workflow.start("chain", { taskQueue: TEST_TASK_QUEUE, workflowId: `history-chain-${randomUUID()}`, args: [{ steps: 1 }] });
    await handle.result();
    const first = await watchEventsOf(handle);
    const continued = first.at(-1);
    expect(continued?.type).toBe("CONTINUED_AS_NEW");
    const latest = (await client.workflow.getHandle(handle.workflowId).describe()).runId;
    expect(continued?.newRunId).toBe(latest);
    const second = await watchEventsOf(handle, latest);
    expect(second.map(brief)).toEqual([
      { type: "STARTED", name: "chain", data: { steps: 0 } },
      { type: "COMPLETED", data: { done: true } },
    ]);
    expect(second[0]?.runId).toBe(latest);
  });

  it("reports a cancellation request and a termination with its reason", async () => {
    const handle = await start("sleep", { seconds: 600 });
    await expect.poll(async () => (await watchEventsOf(handle)).some((e) => e.type === "TIMER_STARTED")).toBe(true);
    await client.workflowService.requestCancelWorkflowExecution({
      namespace: TEST_NAMESPACE,
      workflowExecution: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
      reason: "changed my mind",
    });
    await expect(handle.result()).rejects.toThrow();
    expect((await watchEventsOf(handle)).slice(-2).map((e) => e.type)).toEqual(["CANCEL_REQUESTED", "CANCELED"]);

    const other = await start("sleep", { seconds: 600 });
    await other.terminate("stuck");
    expect(brief((await watchEventsOf(other)).at(-1)!)).toEqual({
      type: "TERMINATED",
      failure: { message: "stuck", type: "TerminatedFailure", stackTrace: "", cause: undefined },
    });
  });
});
