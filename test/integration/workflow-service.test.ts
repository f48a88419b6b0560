// Every RPC of WorkflowService, on every protocol, against a real Temporal and a real worker: the same
// results and the same errors on each.
import { randomUUID } from "node:crypto";
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowStatus } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import { HTTP_STATUS_BY_CODE } from "../../src/server/errors.js";
import { TEST_TASK_QUEUE } from "../helpers/constants.js";
import { callError, isRestError, PROTOCOLS, workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { historyOf, runIdsOf } from "../helpers/temporal.js";
import { REPO_ROOT } from "../helpers/tools.js";

let server: TestServer;
/** A server whose RunWorkflow gives up after 1.5 s when the call sets no deadline. */
let shortRunServer: TestServer;
beforeAll(async () => {
  [server, shortRunServer] = await Promise.all([startTestServer(), startTestServer({ config: { runTimeoutMs: 1500 } })]);
});
afterAll(async () => {
  await Promise.all([server?.close(), shortRunServer?.close()]);
});

const wait = (ms: number) => durationFromMs(ms);
/** A JSON input as the google.protobuf.Value the request carries. */
const json = (value: JsonValue) => fromJson(ValueSchema, value);
/** The JSON result of an outcome, or undefined when there is none. */
const resultOf = (res: { outcome: { case: "result"; value: Value } | { case: string | undefined } }) =>
  res.outcome.case === "result" ? toJson(ValueSchema, (res.outcome as { value: Value }).value) : undefined;

describe.each(PROTOCOLS)("WorkflowService over %s", (protocol) => {
  const client = () => workflowClient(protocol, server.baseUrl);

  /** Every error a client gets is a Connect code; on REST its HTTP status follows the one table. */
  async function expectError(promise: Promise<unknown>, code: Code, message: RegExp) {
    const err = await callError(promise);
    expect(err.code, `${Code[err.code]}: ${err.rawMessage}`).toBe(code);
    expect(err.rawMessage).toMatch(message);
    if (isRestError(err)) {
      expect(err.status).toBe(HTTP_STATUS_BY_CODE[code]);
      expect(err.body).toMatchObject({ code: expect.any(String), message: err.rawMessage });
    }
    return err;
  }

  it("starts a workflow, then reads its result and status", async () => {
    const started = await client().startWorkflow({ workflowType: "greet", input: json({ name: "Ada" }) });
    expect(started.workflowId).toMatch(/^greet-/);
    expect(started.runId).not.toBe("");

    const result = await client().getWorkflowResult({ workflowId: started.workflowId, runId: started.runId, wait: wait(20_000) });
    expect(result).toMatchObject({ workflowId: started.workflowId, runId: started.runId, status: WorkflowStatus.COMPLETED });
    expect(resultOf(result)).toEqual({ greeting: "Hello, Ada!" });

    const status = await client().getWorkflowStatus({ workflowId: started.workflowId });
    expect(status).toMatchObject({
      workflowId: started.workflowId,
      runId: started.runId,
      workflowType: "greet",
      taskQueue: TEST_TASK_QUEUE,
      status: WorkflowStatus.COMPLETED,
    });
    expect(status.historyLength).toBeGreaterThan(3);
    expect(timestampDate(status.closeTime!).getTime()).toBeGreaterThanOrEqual(timestampDate(status.startTime!).getTime());
  });

  it("runs a workflow to its result in one call", async () => {
    const workflowId = `run-${protocol}-${randomUUID()}`;
    const res = await client().runWorkflow({ workflowType: "greet", workflowId, input: json({ name: "Grace" }) });
    expect(res).toMatchObject({ workflowId, status: WorkflowStatus.COMPLETED });
    expect(res.runId).not.toBe("");
    expect(resultOf(res)).toEqual({ greeting: "Hello, Grace!" });
  });

  it("follows continue-as-new to the final run's outcome", async () => {
    const res = await client().runWorkflow({ workflowType: "chain", input: json({ steps: 2 }) });
    expect(res.status).toBe(WorkflowStatus.COMPLETED);
    expect(resultOf(res)).toEqual({ done: true });
    const latest = await client().getWorkflowStatus({ workflowId: res.workflowId });
    expect(res.runId).toBe(latest.runId);

    const { workflowId, runId: firstRunId } = await client().startWorkflow({ workflowType: "chain", input: json({ steps: 1 }) });
    const followed = await client().getWorkflowResult({ workflowId, wait: wait(20_000) });
    expect(followed.status).toBe(WorkflowStatus.COMPLETED);
    expect(followed.runId).not.toBe(firstRunId);
    // Asked about the first run itself, the answer is that run's own end.
    const first = await client().getWorkflowResult({ workflowId, runId: firstRunId });
    expect(first).toMatchObject({ runId: firstRunId, status: WorkflowStatus.CONTINUED_AS_NEW });
  });

  it("passes a JSON array as the arguments of a workflow that takes several", async () => {
    const res = await client().runWorkflow({ workflowType: "add", input: json([2, 40]) });
    expect(resultOf(res)).toBe(42);
  });

  it("reports a failed workflow as a failure, not as a call error", async () => {
    const res = await client().runWorkflow({ workflowType: "fail", input: json({ message: "boom" }) });
    expect(res.status).toBe(WorkflowStatus.FAILED);
    expect(res.outcome.case).toBe("failure");
    const failure = res.outcome.case === "failure" ? res.outcome.value : undefined;
    expect(failure).toMatchObject({ message: "boom", type: "FixtureError" });
    // Where the workflow threw, without the worker's directories (no server paths reach a client).
    expect(failure?.stackTrace).toMatch(/\(workflows\.ts:\d+:\d+\)/);
    expect(failure?.stackTrace).not.toContain(REPO_ROOT);
    expect(failure?.stackTrace).not.toMatch(/[(\s]\/\w/);
  });

  it("shows a running workflow, cancels it with a reason, and refuses to stop it twice", async () => {
    const { workflowId, runId } = await client().startWorkflow({ workflowType: "sleep", input: json({ seconds: 600 }) });
    const running = await client().getWorkflowStatus({ workflowId, runId });
    expect(running.status).toBe(WorkflowStatus.RUNNING);
    expect(running.closeTime).toBeUndefined();

    const early = await client().getWorkflowResult({ workflowId });
    expect(early).toMatchObject({ workflowId, runId, status: WorkflowStatus.RUNNING });
    expect(early.outcome.case).toBeUndefined();

    const stopped = await client().stopWorkflow({ workflowId, reason: "no longer needed" });
    expect(stopped).toEqual(expect.objectContaining({ workflowId, runId }));

    const result = await client().getWorkflowResult({ workflowId, runId, wait: wait(20_000) });
    expect(result.status).toBe(WorkflowStatus.CANCELED);
    expect(result.outcome.case).toBe("failure");
    // The reason is recorded in the workflow's history, where operators will look for it.
    const requested = (await historyOf(workflowId, runId)).find((e) => e.workflowExecutionCancelRequestedEventAttributes);
    expect(requested?.workflowExecutionCancelRequestedEventAttributes?.cause).toBe("no longer needed");

    await expectError(client().stopWorkflow({ workflowId, runId }), Code.FailedPrecondition, /already closed \(CANCELED\)/);
  });

  it("terminates a workflow when asked to, keeping the reason", async () => {
    const { workflowId, runId } = await client().startWorkflow({ workflowType: "sleep", input: json({ seconds: 600 }) });
    await client().stopWorkflow({ workflowId, runId, terminate: true, reason: "operator said so" });
    const result = await client().getWorkflowResult({ workflowId, runId, wait: wait(10_000) });
    expect(result.status).toBe(WorkflowStatus.TERMINATED);
    expect(result.outcome.case === "failure" && result.outcome.value.message).toBe("operator said so");
  });

  it("answers GetWorkflowResult when its wait runs out, with the run still running", async () => {
    const { workflowId, runId } = await client().startWorkflow({ workflowType: "sleep", input: json({ seconds: 600 }) });
    const began = Date.now();
    const res = await client().getWorkflowResult({ workflowId, runId, wait: wait(1000) });
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    expect(res.status).toBe(WorkflowStatus.RUNNING);
    await client().stopWorkflow({ workflowId, terminate: true });
  });

  it("ends RunWorkflow at the call's deadline with DeadlineExceeded; the workflow keeps running", async () => {
    const workflowId = `deadline-${protocol}-${randomUUID()}`;
    await expectError(
      client().runWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 600 }) }, { timeoutMs: 1500 }),
      Code.DeadlineExceeded,
      /./, // the client's own timer may fire first, with its own message
    );
    // The workflow itself keeps running.
    const status = await client().getWorkflowStatus({ workflowId });
    expect(status.status).toBe(WorkflowStatus.RUNNING);
    await client().stopWorkflow({ workflowId, terminate: true });
  });

  it("bounds RunWorkflow by the server's run timeout when the call sets no deadline, naming the run", async () => {
    const workflowId = `bounded-${protocol}-${randomUUID()}`;
    const bounded = workflowClient(protocol, shortRunServer.baseUrl);
    await expectError(
      bounded.runWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 600 }) }),
      Code.DeadlineExceeded,
      new RegExp(`workflow "${workflowId}" run ".+" was still running at the deadline; it keeps running`),
    );
    await client().stopWorkflow({ workflowId, terminate: true });
  });

  it("makes a start idempotent by request_id", async () => {
    const requestId = randomUUID();
    const first = await client().startWorkflow({ workflowType: "sleep", input: json({ seconds: 600 }), requestId });
    const again = await client().startWorkflow({ workflowType: "sleep", input: json({ seconds: 600 }), requestId });
    expect(again).toEqual(first);
    expect(first.workflowId).toBe(`sleep-${requestId}`);
    await client().stopWorkflow({ workflowId: first.workflowId, terminate: true });
    // Even after the run closed, a retry returns it rather than starting a second run.
    const late = await client().startWorkflow({ workflowType: "sleep", input: json({ seconds: 600 }), requestId });
    expect(late).toEqual(first);
  });

  it("makes a start idempotent by request_id under a chosen workflow_id, and tells other requests apart", async () => {
    const workflowId = `idem-${protocol}-${randomUUID()}`;
    const first = await client().runWorkflow({ workflowType: "greet", workflowId, input: json({ name: "A" }), requestId: "r-1" });
    expect(first.status).toBe(WorkflowStatus.COMPLETED);
    // The first run closed; the retry still returns it.
    const retry = await client().startWorkflow({ workflowType: "greet", workflowId, input: json({ name: "A" }), requestId: "r-1" });
    expect(retry).toEqual({ workflowId, runId: first.runId, $typeName: retry.$typeName });
    // A different request under the same id is a new run, as Temporal's default reuse policy allows.
    const next = await client().startWorkflow({ workflowType: "greet", workflowId, input: json({ name: "B" }), requestId: "r-2" });
    expect(next.runId).not.toBe(first.runId);
  });

  it("makes one run from concurrent retries of one request_id, even when the run closes at once", async () => {
    // Twenty callers retry the same start within 100 ms while the first run completes in milliseconds, so
    // some retries arrive before the run exists, some while it runs and some after it closed: a
    // check-then-start raced here (2-6 runs in half the trials before Temporal's own request_id keyed it).
    for (let trial = 0; trial < 2; trial++) {
      const workflowId = `concurrent-${protocol}-${randomUUID()}`;
      const starts = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, (i * 5) % 100));
          return client().startWorkflow({ workflowType: "greet", workflowId, input: json({ name: "A" }), requestId: "r-1" });
        }),
      );
      const runIds = new Set(starts.map((s) => s.runId));
      expect(runIds.size, `trial ${trial}: every caller gets the one run`).toBe(1);
      await client().getWorkflowResult({ workflowId, wait: wait(20_000) });
      expect(await runIdsOf(workflowId), `trial ${trial}: runs in Temporal`).toEqual([...runIds]);
    }
  });

  it("finds a request_id's run among earlier runs when another request started a newer one", async () => {
    const workflowId = `earlier-${protocol}-${randomUUID()}`;
    const r1 = await client().runWorkflow({ workflowType: "greet", workflowId, input: json({ name: "A" }), requestId: "r-1" });
    const r2 = await client().runWorkflow({ workflowType: "greet", workflowId, input: json({ name: "B" }), requestId: "r-2" });
    expect(r2.runId).not.toBe(r1.runId);
    // A late retry of the first request: it started r1's run, not a third one.
    const retry = await client().startWorkflow({ workflowType: "greet", workflowId, input: json({ name: "A" }), requestId: "r-1" });
    expect(retry.runId).toBe(r1.runId);
    expect(await runIdsOf(workflowId)).toEqual([r2.runId, r1.runId]);
  });

  it("refuses a second run under an open workflow id", async () => {
    const workflowId = `dup-${protocol}-${randomUUID()}`;
    await client().startWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 600 }) });
    await expectError(
      client().startWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 600 }) }),
      Code.AlreadyExists,
      new RegExp(`workflow "${workflowId}" is already running`),
    );
    await client().stopWorkflow({ workflowId, terminate: true });
  });

  it("rejects a missing or unregistered workflow_type, naming the field", async () => {
    await expectError(client().startWorkflow({}), Code.InvalidArgument, /workflow_type/);
    await expectError(
      client().runWorkflow({ workflowType: "no-such-type" }),
      Code.InvalidArgument,
      /workflow_type: "no-such-type" is not a registered workflow type \(registered: .*greet/,
    );
  });

  it("rejects a non-array input for a workflow that takes several arguments", async () => {
    await expectError(client().startWorkflow({ workflowType: "add", input: json(1) }), Code.InvalidArgument, /input: .* JSON array/);
  });

  it("rejects a wait beyond five minutes", async () => {
    await expectError(client().getWorkflowResult({ workflowId: "x", wait: wait(301_000) }), Code.InvalidArgument, /wait/);
  });

  it("answers NotFound for an unknown workflow or run", async () => {
    await expectError(client().getWorkflowStatus({ workflowId: `missing-${randomUUID()}` }), Code.NotFound, /not found/);
    await expectError(client().getWorkflowResult({ workflowId: `missing-${randomUUID()}` }), Code.NotFound, /not found/);
    await expectError(client().stopWorkflow({ workflowId: `missing-${randomUUID()}` }), Code.NotFound, /not found/);
    const { workflowId } = await client().runWorkflow({ workflowType: "greet", input: json({ name: "x" }) });
    await expectError(
      client().getWorkflowStatus({ workflowId, runId: "00000000-0000-0000-0000-000000000000" }),
      Code.NotFound,
      /not found/,
    );
  });
});
