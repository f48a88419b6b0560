// The operations on running workflows (signal, query, update, signal-with-start), visibility (list, count),
// history, and the start options, on every protocol, against a real Temporal and the real sample workflows.
import { randomUUID } from "node:crypto";
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowIdConflictPolicy, WorkflowStatus } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import { HTTP_STATUS_BY_CODE } from "../../src/server/errors.js";
import { callError, isRestError, PROTOCOLS, workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { ensureKeywordSearchAttribute, historyOf, runIdsOf } from "../helpers/temporal.js";
import { eventually } from "../helpers/eventually.js";

let server: TestServer;
/** A search attribute the listing test indexes its runs by. */
const TAG = "FlowgateTestTag";

beforeAll(async () => {
  [server] = await Promise.all([startTestServer(), ensureKeywordSearchAttribute(TAG)]);
});
afterAll(async () => {
  await server?.close();
});

const json = (value: JsonValue) => fromJson(ValueSchema, value);
const plain = (value: Value | undefined) => (value === undefined ? undefined : toJson(ValueSchema, value));
const resultOf = (res: { outcome: { case: "result"; value: Value } | { case: string | undefined } }) =>
  res.outcome.case === "result" ? toJson(ValueSchema, (res.outcome as { value: Value }).value) : undefined;

describe.each(PROTOCOLS)("workflow operations over %s", (protocol) => {
  const client = () => workflowClient(protocol, server.baseUrl);

  async function expectError(promise: Promise<unknown>, code: Code, message: RegExp) {
    const err = await callError(promise);
    expect(err.code, `${Code[err.code]}: ${err.rawMessage}`).toBe(code);
    expect(err.rawMessage).toMatch(message);
    if (isRestError(err)) expect(err.status).toBe(HTTP_STATUS_BY_CODE[code]);
    return err;
  }

  async function startApproval() {
    const workflowId = `approval-${protocol}-${randomUUID()}`;
    await client().startWorkflow({ workflowType: "approval", workflowId, input: json({ request: "a new laptop" }) });
    return workflowId;
  }

  it("queries a waiting workflow, signals it, and reads the outcome", async () => {
    const workflowId = await startApproval();
    const state = await client().queryWorkflow({ workflowId, queryName: "state" });
    expect(plain(state.result)).toMatchObject({ status: "waiting", request: "a new laptop" });
    expect(state.runId).not.toBe("");

    const signaled = await client().signalWorkflow({ workflowId, signalName: "decision", input: json({ approved: true, comment: "fine" }) });
    expect(signaled).toMatchObject({ workflowId, runId: state.runId });

    const outcome = await client().getWorkflowResult({ workflowId, wait: durationFromMs(20_000) });
    expect(resultOf(outcome)).toMatchObject({ approved: true, comment: "fine", decided_by: "signal" });
    const after = await client().queryWorkflow({ workflowId, queryName: "state" });
    expect(plain(after.result)).toMatchObject({ status: "approved" });
  });

  it("runs an update and returns its result; a rejection by the validator is FailedPrecondition with its message", async () => {
    const workflowId = await startApproval();
    await expectError(
      client().updateWorkflow({ workflowId, updateName: "decision", input: json({ approved: false }) }),
      Code.FailedPrecondition,
      /a rejection needs a comment/,
    );
    const updated = await client().updateWorkflow({ workflowId, updateName: "decision", input: json({ approved: false, comment: "too dear" }) });
    expect(updated.updateId).not.toBe("");
    const outcome = await client().getWorkflowResult({ workflowId, wait: durationFromMs(20_000) });
    expect(resultOf(outcome)).toMatchObject({ approved: false, comment: "too dear", decided_by: "update" });
  });

  it("refuses signals, queries and updates the type does not declare, or whose input breaks the schema, naming the field", async () => {
    const workflowId = await startApproval();
    await expectError(
      client().signalWorkflow({ workflowId, signalName: "decision", input: json({ approved: "yes" }) }),
      Code.InvalidArgument,
      /^input\.approved: must be boolean/,
    );
    await expectError(
      client().signalWorkflow({ workflowId, signalName: "decide", input: json({}) }),
      Code.InvalidArgument,
      /^signal_name: "decide" is not a signal of workflow type "approval" \(declared: decision\)$/,
    );
    await expectError(client().queryWorkflow({ workflowId, queryName: "secrets" }), Code.InvalidArgument, /not a query of workflow type "approval"/);
    await expectError(
      client().updateWorkflow({ workflowId, updateName: "decision", input: json({ approved: true, extra: 1 }) }),
      Code.InvalidArgument,
      /^input/,
    );
    await expectError(client().signalWorkflow({ workflowId: `missing-${randomUUID()}`, signalName: "decision" }), Code.NotFound, /not found/);
    await client().stopWorkflow({ workflowId, terminate: true });
    await expectError(
      client().signalWorkflow({ workflowId, signalName: "decision", input: json({ approved: true }) }),
      Code.FailedPrecondition,
      /already closed \(TERMINATED\)/,
    );
  });

  it("signals with start: starts the workflow once, then signals the open run", async () => {
    const workflowId = `sws-${protocol}-${randomUUID()}`;
    const request = {
      workflowType: "approval",
      workflowId,
      input: json({ request: "access" }),
      signalName: "decision",
      signalInput: json({ approved: true, comment: "first" }),
    };
    const first = await client().signalWithStart(request);
    expect(first).toMatchObject({ workflowId, started: true });
    const outcome = await client().getWorkflowResult({ workflowId, wait: durationFromMs(20_000) });
    expect(resultOf(outcome)).toMatchObject({ approved: true, comment: "first", decided_by: "signal" });

    await expectError(
      client().signalWithStart({ ...request, workflowId: `sws-bad-${randomUUID()}`, signalInput: json({ approved: 1 }) }),
      Code.InvalidArgument,
      /^signal_input\.approved: must be boolean/,
    );
  });

  it("lists and counts runs by a visibility query and filters, page by page", async () => {
    const tag = `list-${protocol}-${randomUUID()}`;
    const started = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        client().startWorkflow({
          workflowType: "greet",
          workflowId: `${tag}-${i}`,
          input: json({ name: `n${i}` }),
          options: { searchAttributes: { [TAG]: json(tag) }, memo: { batch: json(i) } },
        }),
      ),
    );
    const query = `${TAG} = "${tag}"`;
    expect((await client().countWorkflows({ query, workflowType: "greet" })).count).toBeLessThanOrEqual(5n);
    // Paged once they have all closed: a listing of runs that change between pages may show one twice.
    const counted = await eventually(
      () => client().countWorkflows({ query, workflowType: "greet", status: WorkflowStatus.COMPLETED }),
      (r) => r.count === 5n,
    );
    expect(counted.count).toBe(5n);

    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await client().listWorkflows({ query, workflowType: "greet", pageSize: 2, pageToken });
      expect(page.workflows.length).toBeLessThanOrEqual(2);
      for (const run of page.workflows) {
        expect(run.workflowType).toBe("greet");
        expect(run.startTime && timestampDate(run.startTime).getTime()).toBeGreaterThan(0);
        expect(run.memo).toMatchObject({ batch: expect.any(Number) });
        seen.push(run.runId);
      }
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== "" && pages < 10);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen.sort()).toEqual(started.map((s) => s.runId).sort());

    const none = await client().listWorkflows({ query, startedBefore: { seconds: 1n, nanos: 0 } });
    expect(none.workflows).toEqual([]);
    await expectError(client().listWorkflows({ query: "NoSuchField = 1" }), Code.InvalidArgument, /NoSuchField/);
    await expectError(client().listWorkflows({ pageSize: 5000 }), Code.InvalidArgument, /page_size/);
  });

  it("reads a run's history as readable JSON, page by page", async () => {
    const run = await client().runWorkflow({ workflowType: "greet", input: json({ name: "History" }) });
    const events = [];
    let pageToken = "";
    do {
      const page = await client().getWorkflowHistory({ workflowId: run.workflowId, pageSize: 3, pageToken });
      expect(page.runId).toBe(run.runId);
      events.push(...page.events);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(events.map((e) => Number(e.eventId))).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ eventType: "WorkflowExecutionStarted" });
    expect(events[0]?.attributes).toMatchObject({ workflowType: { name: "greet" }, input: { payloads: [{ name: "History" }] } });
    expect(events.at(-1)).toMatchObject({ eventType: "WorkflowExecutionCompleted" });
    expect(events.at(-1)?.attributes).toMatchObject({ result: { payloads: [{ greeting: "Hello, History!" }] } });
  });
});

describe("start options", () => {
  const client = () => workflowClient("connect-json", server.baseUrl);

  it("records memo, retry policy, timeouts and start delay on the run", async () => {
    const started = await client().startWorkflow({
      workflowType: "greet",
      input: json({ name: "Opt" }),
      options: {
        memo: { team: json("billing") },
        retryPolicy: { maximumAttempts: 3, initialInterval: durationFromMs(2000), nonRetryableErrorTypes: ["InvalidInput"] },
        runTimeout: durationFromMs(60_000),
        startDelay: durationFromMs(1500),
      },
    });
    const status = await client().getWorkflowStatus({ workflowId: started.workflowId });
    expect(status.memo).toMatchObject({ team: "billing" });
    const [startedEvent] = await historyOf(started.workflowId);
    const attrs = startedEvent?.workflowExecutionStartedEventAttributes;
    expect(attrs?.retryPolicy?.maximumAttempts).toBe(3);
    expect(attrs?.retryPolicy?.nonRetryableErrorTypes).toEqual(["InvalidInput"]);
    expect(Number(attrs?.workflowRunTimeout?.seconds)).toBe(60);
    expect(Number(attrs?.firstWorkflowTaskBackoff?.seconds)).toBe(1);
    // The delay holds the first workflow task back: still running half a second in.
    expect(status.status).toBe(WorkflowStatus.RUNNING);
  });

  it("refuses memo keys that are Flowgate's own", async () => {
    const err = await callError(client().startWorkflow({ workflowType: "greet", input: json({ name: "x" }), options: { memo: { "flowgate.progress": json(1) } } }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^options\.memo: key "flowgate\.progress" is reserved/);
  });

  it("USE_EXISTING answers with the open run instead of refusing the start", async () => {
    const workflowId = `conflict-${randomUUID()}`;
    const first = await client().startWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 30 }) });
    const again = await client().startWorkflow({
      workflowType: "sleep",
      workflowId,
      input: json({ seconds: 30 }),
      options: { idConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING },
    });
    expect(again.runId).toBe(first.runId);
    const refused = await callError(client().startWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 30 }) }));
    expect(refused.code).toBe(Code.AlreadyExists);
    await client().stopWorkflow({ workflowId, terminate: true });
  });

  it("makes one execution from 50 concurrent signal-with-starts sharing a request_id", async () => {
    const workflowId = `sws-once-${randomUUID()}`;
    const calls = await Promise.all(
      Array.from({ length: 50 }, () =>
        client().signalWithStart({
          workflowType: "approval",
          workflowId,
          input: json({}),
          requestId: "one-request",
          signalName: "decision",
          signalInput: json({ approved: true, comment: "once" }),
        }),
      ),
    );
    expect(new Set(calls.map((c) => c.runId)).size).toBe(1);
    expect(await runIdsOf(workflowId)).toEqual([calls[0]!.runId]);
    const signals = (await historyOf(workflowId)).filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals.length, "the signal is delivered once").toBe(1);
  });
});
