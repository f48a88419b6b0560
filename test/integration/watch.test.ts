// WatchWorkflow against a real Temporal and the real samples: every event of a run, in order, then the end;
// resumed streams lose and repeat nothing, across Flowgate processes too; many watchers see one sequence;
// continue-as-new is followed; progress and waiting for input come through, and status shows them.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowEventType } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import { type WorkflowService, type WatchWorkflowResponse } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { callError, connectClient, workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let other: TestServer;
beforeAll(async () => {
  [server, other] = await Promise.all([startTestServer(), startTestServer()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), other?.close()]);
});

const json = (value: JsonValue) => fromJson(ValueSchema, value);
const execFileAsync = promisify(execFile);
const T = WorkflowEventType;

const STREAMING = ["grpc", "grpc-web", "connect-json", "connect-binary"] as const;

/** Every event a watch sends, until the stream ends (or `stopAfter` events, then the client goes away). */
async function watch(
  client: Client<typeof WorkflowService>,
  req: { workflowId: string; runId?: string; afterEventId?: bigint; types?: WorkflowEventType[] },
  stopAfter = Infinity,
): Promise<WatchWorkflowResponse[]> {
  const abort = new AbortController();
  const events: WatchWorkflowResponse[] = [];
  try {
    for await (const event of client.watchWorkflow(req, { signal: abort.signal })) {
      events.push(event);
      if (events.length >= stopAfter) {
        abort.abort();
        break;
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  }
  return events;
}

/** Events as comparable keys: run and event id. */
const keys = (events: readonly WatchWorkflowResponse[]) => events.map((e) => `${e.runId}/${e.eventId}`);

async function startReport(input: JsonValue = { steps: 3, step_seconds: 0.2 }) {
  const started = await workflowClient("connect-json", server.baseUrl).startWorkflow({
    workflowType: "report",
    workflowId: `watch-${randomUUID()}`,
    input: json(input),
  });
  return started;
}

describe.each(STREAMING)("WatchWorkflow over %s", (protocol) => {
  it("streams a run's events as they happen, in order, and ends after its close", async () => {
    const { workflowId, runId } = await startReport();
    const events = await watch(connectClient(protocol, server.baseUrl), { workflowId });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe(T.STARTED);
    expect(events[0]).toMatchObject({ runId, name: "report" });
    expect(types.at(-1)).toBe(T.COMPLETED);
    expect(types).toEqual(expect.arrayContaining([T.PROGRESS, T.ACTIVITY_SCHEDULED, T.ACTIVITY_RETRIED, T.ACTIVITY_COMPLETED, T.TIMER_STARTED, T.TIMER_FIRED]));
    const ids = events.map((e) => Number(e.eventId));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);

    const retried = events.find((e) => e.type === T.ACTIVITY_RETRIED);
    expect(retried).toMatchObject({ name: "writeSection", attempt: 2 });
    expect(retried?.failure?.message).not.toBe("");
    const progress = events.filter((e) => e.type === T.PROGRESS).map((e) => e.progress?.percent);
    expect(progress.at(-1)).toBe(100);
    expect(toJson(ValueSchema, events.at(-1)!.data!)).toMatchObject({ steps: 3 });
  });

  it("resumes after the last event seen, losing and repeating nothing", async () => {
    const { workflowId } = await startReport({ steps: 3, step_seconds: 0.5 });
    const client = connectClient(protocol, server.baseUrl);
    const first = await watch(client, { workflowId }, 4);
    const last = first.at(-1)!;
    const rest = await watch(client, { workflowId, runId: last.runId, afterEventId: last.eventId });
    const whole = await watch(client, { workflowId });
    expect(keys([...first, ...rest])).toEqual(keys(whole));
  });
});

describe("WatchWorkflow", () => {
  const client = () => connectClient("connect-binary", server.baseUrl);

  it("gives 20 concurrent watchers of one run the same sequence", async () => {
    const { workflowId } = await startReport({ steps: 2, step_seconds: 0.3 });
    const all = await Promise.all(Array.from({ length: 20 }, () => watch(client(), { workflowId })));
    const expected = keys(all[0]!);
    expect(all[0]!.at(-1)?.type).toBe(T.COMPLETED);
    for (const events of all) expect(keys(events)).toEqual(expected);
  });

  it("resumes on another Flowgate process without losing or repeating anything", async () => {
    const { workflowId } = await startReport({ steps: 3, step_seconds: 0.3 });
    const first = await watch(client(), { workflowId }, 5);
    const last = first.at(-1)!;
    const rest = await watch(connectClient("grpc", other.baseUrl), { workflowId, runId: last.runId, afterEventId: last.eventId });
    const whole = await watch(client(), { workflowId });
    expect(keys([...first, ...rest])).toEqual(keys(whole));
  });

  it("ends open watches with Unavailable when Flowgate shuts down, and the client resumes on another replica", async () => {
    const leaving = await startTestServer();
    // Far longer than the test: the watch is cut by the shutdown (at once, not after the grace), not finished.
    const { workflowId } = await startReport({ steps: 4, step_seconds: 3 });
    const seen: WatchWorkflowResponse[] = [];
    const watching = (async () => {
      for await (const event of connectClient("grpc", leaving.baseUrl).watchWorkflow({ workflowId })) {
        seen.push(event);
        if (seen.length === 3) void leaving.close();
      }
    })();
    const err = await callError(watching);
    expect(err.code, err.rawMessage).toBe(Code.Unavailable);
    const last = seen.at(-1)!;
    const rest = await watch(client(), { workflowId, runId: last.runId, afterEventId: last.eventId });
    const whole = await watch(client(), { workflowId });
    expect(keys([...seen, ...rest])).toEqual(keys(whole));
    expect(whole.at(-1)?.type).toBe(T.COMPLETED);
  });

  it("follows a run that continues as new to its new run", async () => {
    const started = await workflowClient("connect-json", server.baseUrl).startWorkflow({ workflowType: "chain", input: json({ steps: 2 }) });
    const events = await watch(client(), { workflowId: started.workflowId, runId: started.runId });
    const continued = events.filter((e) => e.type === T.CONTINUED_AS_NEW);
    expect(continued).toHaveLength(2);
    const runs = [...new Set(events.map((e) => e.runId))];
    expect(runs).toEqual([started.runId, continued[0]!.newRunId, continued[1]!.newRunId]);
    expect(events.at(-1)?.type).toBe(T.COMPLETED);

    // A client that saw the first run's CONTINUED_AS_NEW and resumes after it is taken on to the next runs.
    const resumed = await watch(client(), { workflowId: started.workflowId, runId: started.runId, afterEventId: continued[0]!.eventId });
    expect(keys(resumed)).toEqual(keys(events.filter((e) => e.runId !== started.runId)));
    // A watcher that wants only the close still follows the chain, and gets each hop and the close.
    const closes = await watch(client(), { workflowId: started.workflowId, runId: started.runId, types: [T.COMPLETED] });
    expect(closes.map((e) => e.type)).toEqual([T.CONTINUED_AS_NEW, T.CONTINUED_AS_NEW, T.COMPLETED]);
  });

  it("shows a run waiting for input, in the stream and in its status, until the input arrives", async () => {
    const wf = workflowClient("connect-json", server.baseUrl);
    const { workflowId } = await wf.startWorkflow({ workflowType: "approval", workflowId: `wait-${randomUUID()}`, input: json({}) });
    const events: WatchWorkflowResponse[] = [];
    const watching = (async () => {
      for await (const event of client().watchWorkflow({ workflowId })) {
        events.push(event);
        if (event.type === T.WAITING_FOR_INPUT) {
          const status = await wf.getWorkflowStatus({ workflowId });
          expect(status.waitingForInput).toMatchObject({ name: "decision" });
          expect(status.waitingForInput?.schema).toBeDefined();
          await wf.signalWorkflow({ workflowId, signalName: "decision", input: json({ approved: true, comment: "ok" }) });
        }
      }
    })();
    await watching;
    const types = events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining([T.WAITING_FOR_INPUT, T.SIGNAL_RECEIVED, T.INPUT_RECEIVED, T.COMPLETED]));
    expect(types.indexOf(T.INPUT_RECEIVED)).toBeGreaterThan(types.indexOf(T.WAITING_FOR_INPUT));
    expect(events.find((e) => e.type === T.INPUT_RECEIVED)?.name).toBe("decision");
    const after = await wf.getWorkflowStatus({ workflowId });
    expect(after.waitingForInput).toBeUndefined();
  });

  it("reports progress and pending activities (attempt, last failure) in the status", async () => {
    const wf = workflowClient("connect-json", server.baseUrl);
    const { workflowId } = await startReport({ steps: 3, step_seconds: 0 });
    let retrying;
    for (let i = 0; i < 100 && retrying === undefined; i++) {
      const status = await wf.getWorkflowStatus({ workflowId });
      retrying = status.pendingActivities.find((a) => a.attempt >= 2);
      if (retrying !== undefined) {
        expect(retrying.activityType).toBe("writeSection");
        expect(retrying.lastFailure?.message).not.toBe("");
        expect(status.progress?.step).not.toBe("");
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(retrying, "the retrying activity was seen pending").toBeDefined();
  });

  it("streams over REST as SSE (fetch) and NDJSON (curl -N), and SSE resumes from Last-Event-ID", async () => {
    const { workflowId } = await startReport({ steps: 2, step_seconds: 0.3 });
    const url = `${server.baseUrl}/workflows/v1/events/${workflowId}`;
    /** SSE messages as {id, data} until the stream ends, or `stopAfter` messages. */
    const readSse = async (headers: Record<string, string>, stopAfter = Infinity) => {
      const abort = new AbortController();
      const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const messages: { id: string; data: { event_id: string; type: string } }[] = [];
      let buffer = "";
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body!) {
          buffer += decoder.decode(chunk, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) !== -1) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (.*)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (id !== undefined && data !== undefined) messages.push({ id, data: JSON.parse(data) });
            if (messages.length >= stopAfter) {
              abort.abort();
              return messages;
            }
          }
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
      return messages;
    };
    const first = await readSse({}, 3);
    const rest = await readSse({ "last-event-id": first.at(-1)!.id });
    const ids = [...first, ...rest].map((m) => m.id);
    const whole = await watch(client(), { workflowId });
    expect(ids).toEqual(keys(whole));
    expect(rest.at(-1)?.data.type).toBe("WORKFLOW_EVENT_TYPE_COMPLETED");

    const { stdout } = await execFileAsync("curl", ["-sN", url]);
    const lines = stdout.trim().split("\n").map((line) => JSON.parse(line) as { event_id: string; run_id: string });
    expect(lines.map((l) => `${l.run_id}/${l.event_id}`)).toEqual(keys(whole));
  });

  it("sends only the event types asked for, and always the close", async () => {
    const { workflowId } = await startReport({ steps: 2, step_seconds: 0 });
    const events = await watch(client(), { workflowId, types: [T.PROGRESS] });
    expect(events.map((e) => e.type)).toEqual([T.PROGRESS, T.PROGRESS, T.PROGRESS, T.COMPLETED]);
    const res = await fetch(`${server.baseUrl}/workflows/v1/events/${workflowId}?types=WORKFLOW_EVENT_TYPE_ACTIVITY_RETRIED`);
    const lines = (await res.text()).trim().split("\n").map((l) => (JSON.parse(l) as { type: string }).type);
    expect(lines).toEqual(["WORKFLOW_EVENT_TYPE_ACTIVITY_RETRIED", "WORKFLOW_EVENT_TYPE_COMPLETED"]);
    const err = await callError(watch(client(), { workflowId, types: [T.UNSPECIFIED] }));
    expect(err.code).toBe(Code.InvalidArgument);
  });

  it("answers NotFound for a workflow that does not exist, before any event", async () => {
    const err = await callError(watch(client(), { workflowId: `missing-${randomUUID()}` }));
    expect(err.code).toBe(Code.NotFound);
  });
});
