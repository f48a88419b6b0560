// The samples as their users rely on them, run by the test worker on the real Temporal dev server and driven
// with @temporalio/client directly: defaults, results, the approval's signal, update, validator, query and
// timeout, and the history convention (progress and awaited input in the memo, one event per report).
import { randomUUID } from "node:crypto";
import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from "@temporalio/client";
import { defaultPayloadConverter, type Payload } from "@temporalio/common";
import type { temporal } from "@temporalio/proto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WorkflowRegistry, type JsonSchema } from "../../src/registry/index.js";
import { compileSchema } from "../../src/registry/schema.js";
import { SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";
import { INPUT_MEMO, PROGRESS_MEMO } from "../../src/workflow/index.js";
import { TEST_NAMESPACE, TEST_TASK_QUEUE } from "../helpers/constants.js";

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address: inject("temporalAddress") });
  client = new Client({ connection, namespace: TEST_NAMESPACE });
});

afterAll(async () => {
  await connection?.close();
});

function start(workflowType: string, input: unknown): Promise<WorkflowHandle> {
  return client.workflow.start(workflowType, { taskQueue: TEST_TASK_QUEUE, workflowId: `${workflowType}-${randomUUID()}`, args: [input] });
}

/** The declared result schema of a sample, compiled. */
function resultValidator(name: string) {
  const schema = SAMPLE_WORKFLOW_TYPES.find((t) => t.name === name)?.result;
  return compileSchema(schema as JsonSchema);
}

/** Runs `check` until it stops throwing, for state a workflow task sets a moment after a call returns. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function memoOf(handle: WorkflowHandle): Promise<Record<string, unknown>> {
  return (await handle.describe()).memo ?? {};
}

/** The values a run's history upserted under a memo key, in order: one WorkflowPropertiesModified event each. */
async function memoEvents(handle: WorkflowHandle, key = PROGRESS_MEMO): Promise<unknown[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? [])
    .map((e) => e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[key])
    .filter((p): p is Payload => p != null)
    .map((p) => defaultPayloadConverter.fromPayload(p));
}

describe("the samples' registration", () => {
  const registry = new WorkflowRegistry(SAMPLE_WORKFLOW_TYPES);

  it("accepts an empty input for every new sample, and compiles every result schema", () => {
    for (const name of ["shopping", "approval", "report"]) {
      expect(() => registry.checkInput(registry.get(name), {})).not.toThrow();
    }
    for (const type of SAMPLE_WORKFLOW_TYPES) {
      if (type.result !== undefined) compileSchema(type.result);
      for (const handler of [...type.signals, ...type.queries, ...type.updates]) if (handler.result !== undefined) compileSchema(handler.result);
    }
  });

  it("refuses bad inputs at the API", () => {
    expect(() => registry.checkInput(registry.get("shopping"), { items: [{ fruit: "KIWI", amount: 1 }] })).toThrow(/must be one of/);
    expect(() => registry.checkInput(registry.get("shopping"), { items: [{ fruit: "PEAR", amount: 0 }] })).toThrow(/>= 1/);
    expect(() => registry.checkInput(registry.get("report"), { steps: 51 })).toThrow(/<= 50/);
    expect(() => registry.checkInput(registry.get("approval"), { timeout_seconds: 0 })).toThrow(/>= 1/);
  });

  it("lets a rejection without a comment past the schema: only the workflow's validator refuses it", () => {
    expect(() => registry.checkHandler("approval", "update", "decision", { approved: false })).not.toThrow();
    expect(() => registry.checkHandler("approval", "signal", "decision", { approved: true, comment: "ok" })).not.toThrow();
    expect(() => registry.checkHandler("approval", "update", "decision", { approve: true })).toThrow();
  });
});

describe("shopping", () => {
  it("orders the default basket with an empty input", async () => {
    const handle = await start("shopping", {});
    const result = await handle.result();
    expect(result).toBe("Ordered 5 Apples for $4.95");
    expect(resultValidator("shopping")(result, "result")).toEqual([]);
    expect(await memoEvents(handle)).toEqual([
      { step: "pricing", percent: 0, message: "pricing 5 Apples" },
      { step: "ordering", percent: 50, message: "ordering 5 Apples for $4.95" },
      { step: "ordered", percent: 100, message: `order-${handle.workflowId} placed` },
    ]);
  });

  it("lists several items readably, with the right total", async () => {
    const two = await start("shopping", { items: [{ fruit: "APPLE", amount: 1 }, { fruit: "CHERRY", amount: 3 }] });
    expect(await two.result()).toBe("Ordered 1 Apple and 3 Cherries for $1.44");
    const three = await start("shopping", { items: [{ fruit: "BANANA", amount: 4 }, { fruit: "ORANGE", amount: 1 }, { fruit: "PEAR", amount: 2 }] });
    expect(await three.result()).toBe("Ordered 4 Bananas, 1 Orange and 2 Pears for $3.57");
  });
});

describe("approval", () => {
  /** Started, and waiting for its decision (the memo says so). */
  async function waiting(input: unknown): Promise<WorkflowHandle> {
    const handle = await start("approval", input);
    await eventually(async () => expect((await memoOf(handle))[INPUT_MEMO]).toBeDefined());
    return handle;
  }

  it("waits with the defaults, shows what it waits for, and takes a decision by signal", async () => {
    const handle = await waiting({});
    expect(await memoOf(handle)).toMatchObject({
      [INPUT_MEMO]: {
        name: "decision",
        prompt: "Approve a request? A rejection needs a comment.",
        schema: { type: "object", required: ["approved"] },
      },
      [PROGRESS_MEMO]: { step: "waiting for a decision", message: "waiting up to 3600 s for a decision on a request" },
    });
    expect(await handle.query("state")).toEqual({ status: "waiting", request: "a request" });

    await handle.signal("decision", { approved: true });
    const result = await handle.result();
    expect(result).toEqual({ approved: true, decided_by: "signal" });
    expect(resultValidator("approval")(result, "result")).toEqual([]);
    expect(await handle.query("state")).toEqual({ status: "approved", request: "a request" });
    const memo = await memoOf(handle);
    expect(memo).not.toHaveProperty(INPUT_MEMO);
    expect(memo[PROGRESS_MEMO]).toEqual({ step: "approved", percent: 100, message: "approved by signal" });
  });

  it("takes a decision by update, which returns it", async () => {
    const handle = await waiting({ request: "a new laptop" });
    expect(await handle.executeUpdate("decision", { args: [{ approved: true, comment: "fine" }] })).toEqual({ approved: true, comment: "fine" });
    expect(await handle.result()).toEqual({ approved: true, comment: "fine", decided_by: "update" });
    expect(await handle.query("state")).toEqual({ status: "approved", request: "a new laptop", comment: "fine" });
  });

  it("refuses a rejection without a comment, by update (with the validator's message) or by signal, and keeps waiting", async () => {
    const handle = await waiting({ request: "a raise" });
    const refused = await handle.executeUpdate("decision", { args: [{ approved: false }] }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause?.message).toBe("a rejection needs a comment");
    await expect(handle.executeUpdate("decision", { args: [{ approved: false, comment: "  " }] })).rejects.toThrow(WorkflowUpdateFailedError);
    await handle.signal("decision", { approved: false });

    // The refused signal was delivered (a workflow task ran it), and the run still waits.
    await eventually(async () => {
      const { events } = await handle.fetchHistory();
      expect((events ?? []).some((e: HistoryEvent) => e.workflowExecutionSignaledEventAttributes != null)).toBe(true);
      expect((events ?? []).at(-1)?.workflowTaskCompletedEventAttributes).toBeDefined();
    });
    expect((await handle.describe()).status.name).toBe("RUNNING");
    expect(await handle.query("state")).toEqual({ status: "waiting", request: "a raise" });
    expect((await memoOf(handle))[INPUT_MEMO]).toMatchObject({ name: "decision" });

    await handle.executeUpdate("decision", { args: [{ approved: false, comment: "not this year" }] });
    expect(await handle.result()).toEqual({ approved: false, comment: "not this year", decided_by: "update" });
    expect(await handle.query("state")).toEqual({ status: "rejected", request: "a raise", comment: "not this year" });
  });

  it("rejects on its own when nobody decides in time", async () => {
    const handle = await start("approval", { timeout_seconds: 1 });
    const result = await handle.result();
    expect(result).toEqual({ approved: false, comment: "no decision within 1 s", decided_by: "timeout" });
    expect(resultValidator("approval")(result, "result")).toEqual([]);
    expect(await handle.query("state")).toEqual({ status: "timed_out", request: "a request", comment: "no decision within 1 s" });
    expect(await memoOf(handle)).not.toHaveProperty(INPUT_MEMO);
  });
});

describe("report", () => {
  it("writes the default report with an empty input", async () => {
    const handle = await start("report", {});
    const result = await handle.result();
    expect(result).toEqual({ sections: [1, 2, 3, 4, 5].map((i) => `Section ${i} of 5`), steps: 5 });
    expect(resultValidator("report")(result, "result")).toEqual([]);
  });

  it("reports each section as a history event, retries the failing section, and ends at 100 %", async () => {
    const handle = await start("report", { steps: 3, step_seconds: 0.1 });
    expect(await handle.result()).toEqual({ sections: ["Section 1 of 3", "Section 2 of 3", "Section 3 of 3"], steps: 3 });

    expect(await memoEvents(handle)).toEqual([
      { step: "section 1", percent: 0, message: "writing section 1 of 3" },
      { step: "section 2", percent: 33, message: "writing section 2 of 3" },
      { step: "section 3", percent: 67, message: "writing section 3 of 3" },
      { step: "done", percent: 100, message: "3 sections written" },
    ]);
    expect((await memoOf(handle))[PROGRESS_MEMO]).toEqual({ step: "done", percent: 100, message: "3 sections written" });

    // Temporal records an activity's last attempt only: section 2's started event says attempt 2.
    const events = (await handle.fetchHistory()).events ?? [];
    const sectionOf = (started: HistoryEvent) => {
      const scheduled = events.find((e) => Number(e.eventId) === Number(started.activityTaskStartedEventAttributes?.scheduledEventId));
      const [arg] = scheduled?.activityTaskScheduledEventAttributes?.input?.payloads ?? [];
      return defaultPayloadConverter.fromPayload<{ index: number }>(arg!).index;
    };
    const attempts = events.filter((e) => e.activityTaskStartedEventAttributes != null).map((e) => [sectionOf(e), e.activityTaskStartedEventAttributes?.attempt]);
    expect(attempts).toEqual([
      [1, 1],
      [2, 2],
      [3, 1],
    ]);
    expect(events.filter((e) => e.timerStartedEventAttributes != null)).toHaveLength(2);
  });
});

describe("waitForInput", () => {
  it("takes an input signalled before the wait without showing a wait, and refuses a late update", async () => {
    const handle = await client.workflow.signalWithStart("answer", {
      taskQueue: TEST_TASK_QUEUE,
      workflowId: `answer-${randomUUID()}`,
      signal: "answer",
      signalArgs: ["early"],
    });
    await eventually(async () => expect(await memoEvents(handle)).toEqual([{ step: "asking", percent: 100 }]));
    const late = await handle.executeUpdate("answer", { args: ["late"] }).catch((err: unknown) => err);
    expect((late as WorkflowUpdateFailedError).cause?.message).toBe('"answer" is no longer awaited');
    await handle.signal("finish");
    expect(await handle.result()).toEqual({ value: "early", via: "signal" });
    expect(await memoEvents(handle, INPUT_MEMO)).toEqual([]);
  });

  it("shows the wait while it lasts, validates, and ignores a late signal", async () => {
    const handle = await start("answer", undefined);
    await eventually(async () => expect((await memoOf(handle))[INPUT_MEMO]).toEqual({ name: "answer", prompt: "Say something" }));
    const refused = await handle.executeUpdate("answer", { args: [5] }).catch((err: unknown) => err);
    expect((refused as WorkflowUpdateFailedError).cause?.message).toBe("a string, please");
    expect(await handle.executeUpdate("answer", { args: ["yes"] })).toBe("yes");
    await handle.signal("answer", "too late");
    await handle.signal("finish");
    expect(await handle.result()).toEqual({ value: "yes", via: "update" });
    // Set, then removed: a null value (which the SDK decodes as undefined) is how every SDK removes a memo key.
    expect(await memoEvents(handle, INPUT_MEMO)).toEqual([{ name: "answer", prompt: "Say something" }, undefined]);
    expect(await memoOf(handle)).not.toHaveProperty(INPUT_MEMO);
  });
});
