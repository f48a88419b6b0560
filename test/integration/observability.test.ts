// What an operator sees of each call: the request id (taken or made, and returned), the one log line's
// fields, and the Prometheus metrics at GET /metrics after a known sequence of calls on several protocols.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TriggerDefinition } from "../../src/events/index.js";
import { eventually } from "../helpers/eventually.js";
import { connectClient, eventsClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const json = (value: JsonValue) => fromJson(ValueSchema, value);
const TRIGGERS: readonly TriggerDefinition[] = [{ id: "greet-on-event", workflowType: "greet", filter: { types: ["test.greet"] }, input: "data.person" }];

let server: TestServer;
const lines: Record<string, unknown>[] = [];
let logText = "";

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString();
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  server = await startTestServer({ triggers: TRIGGERS, logger: pino({ level: "info" }, sink) });
});
afterAll(() => server?.close());

/** The value of one sample of the exposition, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf("}"));
    const have = inside.split(",");
    if (wanted.every((w) => have.includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

const metrics = async () => (await fetch(`${server.baseUrl}/metrics`)).text();

describe("the request id", () => {
  it("takes the caller's x-request-id, returns it, and puts it on the call's log line", async () => {
    const res = await fetch(`${server.baseUrl}/workflows/v1/types`, { headers: { "x-request-id": "trace-42.abc" } });
    expect(res.headers.get("x-request-id")).toBe("trace-42.abc");
    const line = await eventually(async () => lines.find((l) => l.reqId === "trace-42.abc" && l.msg === "request"), (l) => l !== undefined);
    expect(line).toMatchObject({ protocol: "rest", rpc: "flowgate.workflow.v1.WorkflowService/ListWorkflowTypes" });
  });

  it("makes one when the caller sends none, or one that is not printable", async () => {
    const none = await fetch(`${server.baseUrl}/health/live`);
    expect(none.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await fetch(`${server.baseUrl}/health/live`, { headers: { "x-request-id": "a b" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("returns it on gRPC too, as response metadata", async () => {
    let header: string | null = null;
    await connectClient("grpc", server.baseUrl).listWorkflowTypes({}, { headers: { "x-request-id": "grpc-7" }, onHeader: (h) => (header = h.get("x-request-id")) });
    expect(header).toBe("grpc-7");
  });
});

describe("the call's one log line", () => {
  it("names the protocol, RPC, Connect code and duration, and never the credentials sent", async () => {
    const id = `log-${randomUUID()}`;
    const err = await connectClient("grpc", server.baseUrl)
      .getWorkflowStatus({ workflowId: "no-such-run" }, { headers: { "x-request-id": id, authorization: "Bearer s3cret-token-value" } })
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.NotFound });
    const line = await eventually(async () => lines.find((l) => l.reqId === id), (l) => l !== undefined);
    expect(line).toMatchObject({
      msg: "request",
      protocol: "grpc",
      rpc: "flowgate.workflow.v1.WorkflowService/GetWorkflowStatus",
      code: "not_found",
      res: { statusCode: 200 },
    });
    expect(typeof line?.responseTime).toBe("number");
    expect(logText).not.toContain("s3cret-token-value");
  });
});

describe("GET /metrics", () => {
  it("counts a known sequence of calls by RPC, protocol and code, with Temporal's calls and the triggers fired", async () => {
    const before = await metrics();
    const count = (text: string, labels: Record<string, string>) => sample(text, "flowgate_requests_total", labels) ?? 0;
    const start = { rpc: "flowgate.workflow.v1.WorkflowService/StartWorkflow", protocol: "grpc", code: "ok" };
    const missing = { rpc: "flowgate.workflow.v1.WorkflowService/GetWorkflowStatus", protocol: "rest", code: "not_found" };
    const types = { rpc: "flowgate.workflow.v1.WorkflowService/ListWorkflowTypes", protocol: "connect", code: "ok" };
    const refused = { rpc: "flowgate.workflow.v1.WorkflowService/StartWorkflow", protocol: "grpc-web", code: "invalid_argument" };

    const grpc = connectClient("grpc", server.baseUrl);
    await grpc.startWorkflow({ workflowType: "greet", input: json({ name: "Ada" }) });
    await grpc.startWorkflow({ workflowType: "greet", input: json({ name: "Bo" }) });
    expect((await fetch(`${server.baseUrl}/workflows/v1/status/no-such-run`)).status).toBe(404);
    await connectClient("connect-json", server.baseUrl).listWorkflowTypes({});
    await expect(connectClient("grpc-web", server.baseUrl).startWorkflow({ workflowType: "" })).rejects.toMatchObject({ code: Code.InvalidArgument });
    const eventId = randomUUID();
    const event = { id: eventId, source: "/tests", type: "test.greet", specversion: "1.0", data: json({ person: { name: "Cy" } }) };
    await eventsClient("grpc", server.baseUrl).publishEvent({ event });
    await eventsClient("grpc", server.baseUrl).publishEvent({ event });

    const after = await metrics();
    expect(count(after, start) - count(before, start)).toBe(2);
    expect(count(after, missing) - count(before, missing)).toBe(1);
    expect(count(after, types) - count(before, types)).toBe(1);
    expect(count(after, refused) - count(before, refused)).toBe(1);
    expect(sample(after, "flowgate_request_duration_seconds_count", { rpc: start.rpc, protocol: "grpc" })).toBeGreaterThanOrEqual(2);
    // GET /metrics is itself in flight while it answers.
    expect(sample(after, "flowgate_requests_in_flight", { protocol: "http" })).toBe(1);
    expect(sample(after, "flowgate_temporal_request_duration_seconds_count", { operation: "start", outcome: "ok" })).toBeGreaterThanOrEqual(3);
    expect(sample(after, "flowgate_temporal_request_duration_seconds_count", { operation: "describe", outcome: "not_found" })).toBeGreaterThanOrEqual(1);
    expect(sample(after, "flowgate_event_triggers_fired_total", { trigger: "greet-on-event", outcome: "started" })).toBeGreaterThanOrEqual(1);
    expect(sample(after, "flowgate_event_triggers_fired_total", { trigger: "greet-on-event", outcome: "already_started" })).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^# TYPE flowgate_requests_total counter$/m);
    expect(after).toMatch(/^# TYPE flowgate_request_duration_seconds histogram$/m);
  });

  it("counts a watch among the open streams while it lasts", async () => {
    const grpc = connectClient("grpc", server.baseUrl);
    const { workflowId } = await grpc.startWorkflow({ workflowType: "sleep", input: json({ seconds: 30 }) });
    const rpc = "flowgate.workflow.v1.WorkflowService/WatchWorkflow";
    const abort = new AbortController();
    const watching = (async () => {
      for await (const _ of grpc.watchWorkflow({ workflowId }, { signal: abort.signal })) {
        // reading until aborted
      }
    })().catch(() => undefined);
    const open = (text: string) => sample(text, "flowgate_open_streams", { rpc });
    expect(open(await eventually(metrics, (text) => open(text) === 1))).toBe(1);
    abort.abort();
    await watching;
    expect(open(await eventually(metrics, (text) => open(text) === 0))).toBe(0);
    await grpc.stopWorkflow({ workflowId, terminate: true, reason: "test over" });
  });

  it("keeps the label sets bounded: an unknown path counts as unmatched, not by its URL", async () => {
    await fetch(`${server.baseUrl}/no/such/${randomUUID()}`);
    const text = await metrics();
    expect(sample(text, "flowgate_requests_total", { rpc: "unmatched", protocol: "http", code: "not_found" })).toBeGreaterThanOrEqual(1);
    expect(text).not.toMatch(/no\/such/);
  });
});
