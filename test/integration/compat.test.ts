// The compatibility service: the REST paths and JSON shapes that callers of the FastAPI + Temporal servers
// and of the LlamaIndex WorkflowServer use today, called with fetch (and curl for the event streams) against
// a real Temporal and the real sample workflows. Shapes are written out here, independently of the server.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WorkflowOperations } from "../../src/operations/index.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { eventually } from "../helpers/eventually.js";

const run = promisify(execFile);

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

interface Answer {
  readonly status: number;
  readonly body: JsonObject;
}

/** A JSON call; `body` is sent as JSON unless it is already a string. */
async function call(method: "GET" | "POST", path: string, body?: JsonValue, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(server.baseUrl + path, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as JsonObject };
}
const get = (path: string, headers?: Record<string, string>) => call("GET", path, undefined, headers);
const post = (path: string, body?: JsonValue, headers?: Record<string, string>) => call("POST", path, body, headers);

/** Asserts the Connect error body and its HTTP status. */
function expectError(answer: Answer, status: number, code: string, message: RegExp) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toMatchObject({ code });
  expect(answer.body.message).toMatch(message);
}

/** A LlamaIndex Handler, with every field. */
function handler(fields: JsonObject) {
  return {
    handler_id: expect.any(String),
    workflow_name: expect.any(String),
    run_id: expect.any(String),
    status: expect.any(String),
    started_at: expect.stringMatching(ISO),
    updated_at: expect.stringMatching(ISO),
    completed_at: null,
    error: null,
    result: null,
    ...fields,
  };
}

/** Starts an approval that waits for a decision (a person's input), by the LlamaIndex path. */
async function startApproval(): Promise<string> {
  const started = await post("/workflows/approval/run-nowait", { start_event: { request: "a new laptop" } });
  expect(started.status).toBe(200);
  return started.body.handler_id as string;
}

describe("FastAPI + Temporal paths", () => {
  it("POST /workflows/{type} starts and waits: the outcome, status lower-case", async () => {
    const done = await post("/workflows/greet", { name: "Ada" });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      workflow_id: expect.stringMatching(/^greet-/),
      run_id: expect.any(String),
      status: "completed",
      result: { greeting: "Hello, Ada!" },
    });

    const failed = await post("/workflows/fail", { message: "the fixture failed" });
    expect(failed.body).toEqual({ workflow_id: expect.any(String), run_id: expect.any(String), status: "failed", result: null, error: "the fixture failed" });
  });

  it("takes the body as JSON whatever the Content-Type, as curl -d sends it", async () => {
    const done = await post("/workflows/greet", '{"name": "Curl"}', { "content-type": "application/x-www-form-urlencoded" });
    expect(done.body).toMatchObject({ status: "completed", result: { greeting: "Hello, Curl!" } });
  });

  it("POST /workflows/{type}/async starts; GET status describes; GET result waits for the close", async () => {
    const started = await post("/workflows/sleep/async", { seconds: 1 });
    expect(started.body).toEqual({ workflow_id: expect.stringMatching(/^sleep-/), run_id: expect.any(String), status: "started" });
    const id = started.body.workflow_id as string;

    const status = await get(`/workflows/${id}/status`);
    expect(status.body).toEqual({
      workflow_id: id,
      run_id: started.body.run_id,
      workflow_type: "sleep",
      status: expect.stringMatching(/^(running|completed)$/),
      start_time: expect.stringMatching(ISO),
      close_time: status.body.status === "running" ? null : expect.stringMatching(ISO),
    });

    const result = await get(`/workflows/${id}/result`);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ workflow_id: id, run_id: started.body.run_id, status: "completed", result: { slept_seconds: 1 } });
    const closed = await get(`/workflows/${id}/status`);
    expect(closed.body).toMatchObject({ status: "completed", close_time: expect.stringMatching(ISO) });
  });

  it("reports canceled, terminated and timed-out runs in lower case, with the failure as error", async () => {
    const canceled = (await post("/workflows/approval/async", {})).body.workflow_id as string;
    expect((await get(`/workflows/${canceled}/status`)).body).toMatchObject({ status: "running", close_time: null });
    await post(`/handlers/${canceled}/cancel`);
    expect((await get(`/workflows/${canceled}/result`)).body).toMatchObject({ status: "canceled", result: null, error: expect.any(String) });

    const terminated = (await post("/workflows/approval/async", {})).body.workflow_id as string;
    expect((await post(`/workflows/v1/stop/${terminated}`, { terminate: true, reason: "enough" })).status).toBe(200);
    expect((await get(`/workflows/${terminated}/result`)).body).toMatchObject({ status: "terminated", result: null, error: "enough" });

    const timedOut = await post("/workflows/v1/start", { workflow_type: "sleep", input: { seconds: 60 }, options: { execution_timeout: "1s" } });
    const outcome = await get(`/workflows/${timedOut.body.workflow_id as string}/result`);
    expect(outcome.body).toMatchObject({ status: "timed_out", result: null, error: expect.any(String) });
    expect((await get(`/workflows/${timedOut.body.workflow_id as string}/status`)).body).toMatchObject({ status: "timed_out" });
  });

  it("GET /workflows/{id}/result answers 202 with status running when the run outlives the server's bound", async () => {
    const quick = await startTestServer({ config: { runTimeoutMs: 500 } });
    try {
      const id = await startApproval();
      const res = await fetch(`${quick.baseUrl}/workflows/${id}/result`);
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ workflow_id: id, run_id: expect.any(String), status: "running", result: null });
      await post(`/handlers/${id}/cancel`);
    } finally {
      await quick.close();
    }
  });
});

describe("LlamaIndex WorkflowServer paths", () => {
  it("GET /workflows lists the registered names", async () => {
    const { status, body } = await get("/workflows");
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(["workflows"]);
    expect(body.workflows).toEqual(expect.arrayContaining(["approval", "greet", "report", "shopping", "sleep"]));
  });

  it("POST /workflows/{name}/run takes start_event as an object, a JSON string or an envelope, or kwargs", async () => {
    const bodies: [JsonObject, string][] = [
      [{ start_event: { name: "Object" } }, "Object"],
      [{ start_event: JSON.stringify({ name: "String" }) }, "String"],
      [{ start_event: { type: "StartEvent", value: { name: "Envelope" } } }, "Envelope"],
      [{ kwargs: { name: "Kwargs" } }, "Kwargs"],
    ];
    for (const [body, name] of bodies) {
      const { status, body: answer } = await post("/workflows/greet/run", body);
      expect(status).toBe(200);
      expect(answer).toEqual(
        handler({
          handler_id: expect.stringMatching(/^greet-/),
          workflow_name: "greet",
          status: "completed",
          completed_at: expect.stringMatching(ISO),
          result: { greeting: `Hello, ${name}!` },
        }),
      );
    }
    const failed = await post("/workflows/fail/run", { start_event: { message: "no luck" } });
    expect(failed.body).toEqual(handler({ workflow_name: "fail", status: "failed", completed_at: expect.stringMatching(ISO), error: "no luck" }));
  });

  it("run-nowait, GET /handlers/{id}, GET /results/{id} (202, then 200), GET /handlers, and cancel", async () => {
    const id = await startApproval();
    const running = handler({ handler_id: id, workflow_name: "approval", status: "running" });
    expect((await get(`/handlers/${id}`)).body).toEqual(running);
    const pending = await get(`/results/${id}`);
    expect(pending.status).toBe(202);
    expect(pending.body).toEqual(running);

    const listed = await eventually(
      () => get("/handlers?workflow_name=approval&status=running"),
      (a) => (a.body.handlers as JsonObject[]).some((h) => h.handler_id === id),
    );
    expect(Object.keys(listed.body)).toEqual(["handlers"]);
    expect((listed.body.handlers as JsonObject[]).find((h) => h.handler_id === id)).toEqual(running);

    expect(await post(`/handlers/${id}/cancel`)).toEqual({ status: 200, body: { status: "cancelled" } });
    const cancelled = await eventually(() => get(`/results/${id}`), (a) => a.status === 200);
    expect(cancelled.body).toEqual(
      handler({ handler_id: id, workflow_name: "approval", status: "cancelled", completed_at: expect.stringMatching(ISO) }),
    );
    // A closed run cannot be cancelled again: FailedPrecondition, which the error table answers with 400.
    expectError(await post(`/handlers/${id}/cancel`), 400, "failed_precondition", /already closed/);
  });

  it("GET /handlers shows closed runs with their results, newest first, and refuses an unknown status", async () => {
    const done = await post("/workflows/greet/run", { start_event: { name: "Listed" } });
    const id = done.body.handler_id as string;
    const listed = await eventually(
      () => get("/handlers?workflow_name=greet&status=completed"),
      (a) => (a.body.handlers as JsonObject[]).some((h) => h.handler_id === id),
    );
    const handlers = listed.body.handlers as JsonObject[];
    expect(handlers.length).toBeLessThanOrEqual(100);
    expect(handlers.every((h) => h.workflow_name === "greet" && h.status === "completed")).toBe(true);
    expect(handlers.find((h) => h.handler_id === id)).toEqual(done.body);
    const started = handlers.map((h) => h.started_at as string);
    expect(started).toEqual([...started].sort().reverse());
    expect((await get(`/results/${id}`)).body).toEqual(done.body);

    expectError(await get("/handlers?status=paused"), 400, "invalid_argument", /^status: "paused" is not a handler status/);
    const all = await get("/handlers");
    expect(all.status).toBe(200);
    expect((all.body.handlers as JsonObject[]).length).toBeLessThanOrEqual(100);
  });

  it("lists a workflow that continued as new once: the chain's last run is its handler", async () => {
    const done = await post("/workflows/chain/run", { start_event: { steps: 2 } });
    expect(done.body).toMatchObject({ workflow_name: "chain", status: "completed", result: { done: true } });
    const id = done.body.handler_id as string;
    const listed = await eventually(
      () => get("/handlers?workflow_name=chain"),
      (a) => (a.body.handlers as JsonObject[]).some((h) => h.handler_id === id),
    );
    expect((listed.body.handlers as JsonObject[]).filter((h) => h.handler_id === id)).toEqual([done.body]);
  });

  it("POST /events/{id} sends a decision to a waiting approval, as an envelope or with step", async () => {
    const byEnvelope = await startApproval();
    const sent = await post(`/events/${byEnvelope}`, { event: { type: "decision", value: { approved: true, comment: "fine" } } });
    expect(sent).toEqual({ status: 200, body: { status: "sent" } });
    expect((await get(`/workflows/${byEnvelope}/result`)).body).toMatchObject({
      status: "completed",
      result: { approved: true, comment: "fine", decided_by: "signal" },
    });
    // The run has closed: the seed answered 409; FailedPrecondition is 400 in Flowgate's one error table.
    expectError(await post(`/events/${byEnvelope}`, { event: { type: "decision", value: { approved: true } } }), 400, "failed_precondition", /already closed/);

    const byStep = await startApproval();
    expect((await post(`/events/${byStep}`, { event: JSON.stringify({ approved: false, comment: "too dear" }), step: "decision" })).body).toEqual({
      status: "sent",
    });
    expect((await get(`/workflows/${byStep}/result`)).body).toMatchObject({
      result: { approved: false, comment: "too dear", decided_by: "signal" },
    });
  });

  it("POST /events/{id} refuses an event that names no signal, or whose value breaks the signal's schema", async () => {
    const id = await startApproval();
    expectError(await post(`/events/${id}`, { event: { approved: true } }), 400, "invalid_argument", /^step: is required/);
    expectError(await post(`/events/${id}`, {}), 400, "invalid_argument", /^event: is required/);
    expectError(await post(`/events/${id}`, { event: { type: "decision", value: { approved: "yes" } } }), 400, "invalid_argument", /^input\.approved/);
    expectError(await post(`/events/${id}`, { event: { type: "nudge", value: {} } }), 400, "invalid_argument", /"nudge" is not a signal/);
    await post(`/handlers/${id}/cancel`);
  });
});

// ---- Event streams ----

interface Frame {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: JsonObject;
}

function parseSse(text: string): Frame[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const fields: Record<string, string> = {};
      for (const line of block.split("\n")) {
        const colon = line.indexOf(":");
        fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, "");
      }
      return { id: fields.id, event: fields.event, data: JSON.parse(fields.data ?? "null") as JsonObject };
    });
}

function parseNdjson(text: string): JsonObject[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as JsonObject);
}

/** Reads a stream with fetch until it ends (or `until` holds), then stops reading. */
async function readStream(path: string, headers: Record<string, string> = {}, until?: (text: string) => boolean) {
  const res = await fetch(server.baseUrl + path, { headers });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (until?.(text)) {
      await reader.cancel();
      break;
    }
  }
  return { res, text };
}

async function curl(path: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("curl", ["-sSN", "--max-time", "30", ...args, server.baseUrl + path], { timeout: 40_000 });
  return stdout;
}

const SHOPPING_RESULT = "Ordered 5 Apples for $4.95";

/** The envelopes a shopping run's stream must hold: a progress event, an activity, and the StopEvent last. */
function expectShoppingEnvelopes(envelopes: JsonObject[], runId: string) {
  expect(envelopes[0]).toMatchObject({ type: "StartedEvent", types: [], qualified_name: "flowgate.events.StartedEvent", value: { name: "shopping" } });
  const progress = envelopes.find((e) => e.type === "ProgressEvent");
  expect(progress).toEqual({
    type: "ProgressEvent",
    types: [],
    qualified_name: "flowgate.events.ProgressEvent",
    value: {
      event_id: expect.any(Number),
      run_id: runId,
      time: expect.stringMatching(ISO),
      name: "",
      attempt: 0,
      data: null,
      progress: { step: "pricing", percent: 0, message: expect.stringContaining("pricing") },
      input_request: null,
      failure: null,
      new_run_id: null,
    },
  });
  expect(envelopes).toContainEqual(
    expect.objectContaining({ type: "ActivityScheduledEvent", value: expect.objectContaining({ name: "priceItems", run_id: runId }) }),
  );
  expect(envelopes.at(-1)).toEqual({ type: "StopEvent", types: [], qualified_name: "workflows.events.StopEvent", value: { result: SHOPPING_RESULT } });
  expect(envelopes.filter((e) => e.type === "StopEvent")).toHaveLength(1);
}

describe("GET /events/{id}", () => {
  let shopping: { id: string; runId: string };
  beforeAll(async () => {
    const done = await post("/workflows/shopping/run", { start_event: {} });
    expect(done.body).toMatchObject({ status: "completed", result: SHOPPING_RESULT });
    shopping = { id: done.body.handler_id as string, runId: done.body.run_id as string };
  });

  it("streams Server-Sent Events by default, with resumable ids, read with fetch", async () => {
    const { res, text } = await readStream(`/events/${shopping.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const frames = parseSse(text);
    expectShoppingEnvelopes(
      frames.map((f) => f.data),
      shopping.runId,
    );
    for (const frame of frames.slice(0, -1)) expect(frame.id).toBe(`${shopping.runId}/${(frame.data.value as JsonObject).event_id as number}`);

    // A reconnect with Last-Event-ID resumes after that event.
    const progress = frames.find((f) => f.data.type === "ProgressEvent")!;
    const resumed = parseSse((await readStream(`/events/${shopping.id}`, { "last-event-id": progress.id! })).text);
    expect(resumed.map((f) => f.id)).toEqual(frames.slice(frames.indexOf(progress) + 1).map((f) => f.id));
  });

  it("streams NDJSON with sse=false, read with fetch", async () => {
    const { res, text } = await readStream(`/events/${shopping.id}?sse=false`);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expectShoppingEnvelopes(parseNdjson(text), shopping.runId);
  });

  it("streams both formats to curl -N", async () => {
    expectShoppingEnvelopes(
      parseSse(await curl(`/events/${shopping.id}?sse=true`)).map((f) => f.data),
      shopping.runId,
    );
    expectShoppingEnvelopes(parseNdjson(await curl(`/events/${shopping.id}?sse=false`)), shopping.runId);
  });

  it("follows a live run: waiting for input, the decision sent by POST /events, then the StopEvent", async () => {
    const id = await startApproval();
    const res = await fetch(`${server.baseUrl}/events/${id}`);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let sent = false;
    while (!text.includes('"type":"StopEvent"')) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (!sent && text.includes('"type":"WaitingForInputEvent"')) {
        sent = true;
        expect((await post(`/events/${id}`, { event: { type: "decision", value: { approved: true, comment: "live" } } })).status).toBe(200);
      }
    }
    await reader.cancel();
    const envelopes = parseSse(text).map((f) => f.data);
    expect(envelopes.find((e) => e.type === "WaitingForInputEvent")).toMatchObject({
      value: { input_request: { name: "decision", prompt: expect.stringContaining("a new laptop") } },
    });
    expect(envelopes).toContainEqual(expect.objectContaining({ type: "SignalReceivedEvent", value: expect.objectContaining({ name: "decision" }) }));
    expect(envelopes.at(-1)).toEqual({
      type: "StopEvent",
      types: [],
      qualified_name: "workflows.events.StopEvent",
      value: { result: { approved: true, comment: "live", decided_by: "signal" } },
    });
  });

  it("stops watching the run when the client goes away", async () => {
    const ended = new Set<string>();
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the instance as `this`
    const watch = WorkflowOperations.prototype.watch;
    const spy = vi.spyOn(WorkflowOperations.prototype, "watch").mockImplementation(async function* (this: WorkflowOperations, ref, signal) {
      try {
        yield* watch.call(this, ref, signal);
      } finally {
        ended.add(ref.workflowId);
      }
    });
    try {
      const id = await startApproval();
      const client = new AbortController();
      const res = await fetch(`${server.baseUrl}/events/${id}`, { signal: client.signal });
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes('"type":"WaitingForInputEvent"')) text += new TextDecoder().decode((await reader.read()).value);
      expect(ended.has(id)).toBe(false);
      client.abort();
      expect(await eventually(async () => ended.has(id), Boolean)).toBe(true);
      await post(`/handlers/${id}/cancel`);
    } finally {
      spy.mockRestore();
    }
  });

  it("ends a failed run's stream with a StopEvent carrying the failure", async () => {
    const failed = await post("/workflows/fail/run", { start_event: { message: "stream me" } });
    const envelopes = parseNdjson(await curl(`/events/${failed.body.handler_id as string}?sse=false`));
    expect(envelopes.at(-1)).toMatchObject({
      type: "StopEvent",
      value: { result: null, status: "failed", error: "stream me", failure: { message: "stream me", type: "FixtureError" } },
    });
  });

  it("refuses an unknown handler with 404 and a malformed Last-Event-ID with 400, before streaming", async () => {
    expectError(await get("/events/no-such-handler"), 404, "not_found", /not found/);
    expectError(await get(`/events/${shopping.id}`, { "last-event-id": "x/y" }), 400, "invalid_argument", /Last-Event-ID/);
  });
});

describe("GET /", () => {
  it("answers the WorkflowServer's status as JSON to a client that asks for JSON, and 404 otherwise", async () => {
    expect(await get("/", { accept: "application/json" })).toEqual({
      status: 200,
      body: { service: "flowgate", status: "ok", temporal_connected: true },
    });
    expectError(await get("/", { accept: "text/html" }), 404, "not_found", /no route for GET \//);
  });
});

describe("errors and the contract's paths", () => {
  it("refuses an unknown workflow type with 400 and the Connect error body, on every start path", async () => {
    for (const path of ["/workflows/nope", "/workflows/nope/async", "/workflows/nope/run", "/workflows/nope/run-nowait"]) {
      expectError(await post(path, {}), 400, "invalid_argument", /"nope" is not a registered workflow type \(registered: .*greet/);
    }
    expectError(await post("/workflows/greet", { name: "" }), 400, "invalid_argument", /^input\.name/);
    expectError(await post("/workflows/greet", "{not json"), 400, "invalid_argument", /not valid JSON/);
  });

  it("answers 404 for an unknown handler or workflow id on every path that names one", async () => {
    const missing = "no-such-workflow";
    for (const answer of [
      await get(`/workflows/${missing}/status`),
      await get(`/workflows/${missing}/result`),
      await get(`/handlers/${missing}`),
      await get(`/results/${missing}`),
      await post(`/handlers/${missing}/cancel`),
      await post(`/events/${missing}`, { event: { type: "decision", value: { approved: true } } }),
    ]) {
      expectError(answer, 404, "not_found", /not found/);
    }
  });

  it("leaves the contract's /workflows/v1 paths to the contract", async () => {
    const started = await post("/workflows/v1/start", { workflow_type: "greet", input: { name: "Contract" } });
    expect(started.status).toBe(200);
    expect(started.body).toEqual({ workflow_id: expect.stringMatching(/^greet-/), run_id: expect.any(String) });
    const status = await get(`/workflows/v1/status/${started.body.workflow_id as string}`);
    expect(status.body).toMatchObject({ workflow_id: started.body.workflow_id, workflow_type: "greet", status: expect.stringMatching(/^WORKFLOW_STATUS_/) });
    const ran = await post("/workflows/v1/run", { workflow_type: "greet", input: { name: "Contract" } });
    expect(ran.body).toMatchObject({ status: "WORKFLOW_STATUS_COMPLETED", result: { greeting: "Hello, Contract!" } });
  });
});
