// Tracing, with an OTLP endpoint configured: a caller's W3C traceparent, on every protocol, becomes the parent
// of the call's server span; the Temporal start is a client span under it; and the workflow gets that span's
// context in its `_tracer-data` header, where the Temporal SDK's OpenTelemetry interceptors pick it up. The
// spans go over OTLP/HTTP (JSON) to a collector the test runs. A worker with the same endpoint continues the
// trace into the workflow run and its activities.
import http from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { eventually } from "../helpers/eventually.js";
import { PROTOCOLS, workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { historyOf } from "../helpers/temporal.js";
import { startTestWorker, type TestWorker } from "../helpers/worker.js";

const json = (value: JsonValue) => fromJson(ValueSchema, value);

interface ExportedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: readonly { key: string; value: { stringValue?: string; intValue?: string | number } }[];
  readonly status?: { code?: number };
}

/** An OTLP/HTTP collector that keeps what it is sent. */
let collector: http.Server;
let collectorUrl: string;
const spans: ExportedSpan[] = [];
const services = new Set<string>();
let server: TestServer;
let worker: TestWorker;
const tracedQueue = `traced-${randomUUID()}`;

beforeAll(async () => {
  collector = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url === "/v1/traces" && String(req.headers["content-type"]).startsWith("application/json")) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: { resource: { attributes: ExportedSpan["attributes"] }; scopeSpans: { spans: ExportedSpan[] }[] }[];
        };
        for (const resourceSpans of body.resourceSpans) {
          const name = resourceSpans.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue;
          if (name !== undefined) services.add(name);
          for (const scope of resourceSpans.scopeSpans) spans.push(...scope.spans);
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  server = await startTestServer({ config: { tracing: { endpoint: `${collectorUrl}/v1/traces`, serviceName: "flowgate-under-test" } } });
  worker = await startTestWorker({
    address: inject("temporalAddress"),
    namespace: TEST_NAMESPACE,
    taskQueue: tracedQueue,
    tracing: { endpoint: `${collectorUrl}/v1/traces`, serviceName: "flowgate-worker-under-test" },
  });
});
afterAll(async () => {
  await worker?.close();
  await server?.close();
  await new Promise((resolve) => collector?.close(resolve));
});

const attribute = (span: ExportedSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
};

describe("a call with a traceparent", () => {
  it.each(PROTOCOLS)("continues the caller's trace over %s, into the workflow's start", async (protocol) => {
    const traceId = randomBytes(16).toString("hex");
    const callerSpanId = randomBytes(8).toString("hex");
    const started = await workflowClient(protocol, server.baseUrl).startWorkflow(
      { workflowType: "greet", input: json({ name: "traced" }) },
      { headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } },
    );

    const inTrace = await eventually(
      async () => spans.filter((s) => s.traceId === traceId),
      (found) => found.some((s) => s.kind === 2) && found.some((s) => s.kind === 3),
    );
    const serverSpan = inTrace.find((s) => s.kind === 2);
    const clientSpan = inTrace.find((s) => s.kind === 3);
    if (serverSpan === undefined || clientSpan === undefined) throw new Error(`spans of the trace: ${inTrace.map((s) => s.name).join(", ")}`);
    expect(serverSpan.name).toBe("flowgate.workflow.v1.WorkflowService/StartWorkflow");
    expect(serverSpan.parentSpanId).toBe(callerSpanId);
    expect(attribute(serverSpan, "rpc.service")).toBe("flowgate.workflow.v1.WorkflowService");
    expect(attribute(serverSpan, "rpc.method")).toBe("StartWorkflow");
    expect(attribute(serverSpan, "flowgate.protocol")).toBe(protocol === "connect-json" || protocol === "connect-binary" ? "connect" : protocol);
    expect(attribute(serverSpan, "flowgate.code")).toBe("ok");
    expect(clientSpan.name).toBe("StartWorkflow:greet");
    expect(clientSpan.parentSpanId).toBe(serverSpan.spanId);
    expect(attribute(clientSpan, "temporalWorkflowId")).toBe(started.workflowId);
    expect(services).toContain("flowgate-under-test");

    // The workflow carries the client span's context, as the Temporal SDK's interceptors write and read it.
    const [first] = await historyOf(started.workflowId, started.runId);
    const carried = first?.workflowExecutionStartedEventAttributes?.header?.fields?.["_tracer-data"];
    expect(carried?.metadata?.encoding && Buffer.from(carried.metadata.encoding).toString()).toBe("json/plain");
    const carrier = JSON.parse(Buffer.from(carried!.data!).toString()) as { traceparent: string };
    expect(carrier.traceparent).toBe(`00-${traceId}-${clientSpan.spanId}-01`);
  });

  it("goes on in a traced worker: the workflow run and its activities", async () => {
    const traceId = randomBytes(16).toString("hex");
    const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    const client = workflowClient("connect-json", server.baseUrl);
    const started = await client.startWorkflow({ workflowType: "report", taskQueue: tracedQueue, input: json({ steps: 2, step_seconds: 0 }) }, { headers: { traceparent } });
    await client.getWorkflowResult({ workflowId: started.workflowId, wait: { seconds: 30n } });
    const inTrace = await eventually(
      async () => spans.filter((s) => s.traceId === traceId),
      (found) => found.some((s) => s.name.startsWith("RunActivity:")) && found.some((s) => s.name === "RunWorkflow:report"),
    );
    const byId = new Map(inTrace.map((s) => [s.spanId, s]));
    const run = inTrace.find((s) => s.name === "RunWorkflow:report");
    const activity = inTrace.find((s) => s.name.startsWith("RunActivity:"));
    expect(run, inTrace.map((s) => s.name).join(", ")).toBeDefined();
    expect(byId.get(run!.parentSpanId!)?.name, "the run is a child of Flowgate's start").toBe("StartWorkflow:report");
    // The activity's span hangs off the run: RunActivity under StartActivity under RunWorkflow.
    const scheduled = byId.get(activity!.parentSpanId!);
    expect(scheduled?.name).toMatch(/^StartActivity:/);
    expect(scheduled?.parentSpanId).toBe(run!.spanId);
    expect(services).toContain("flowgate-worker-under-test");
  });

  it("goes on into the workflow's handling of a signal, in the signal's own trace", async () => {
    const client = workflowClient("grpc", server.baseUrl);
    const started = await client.startWorkflow({ workflowType: "approval", taskQueue: tracedQueue, input: json({}) });
    const traceId = randomBytes(16).toString("hex");
    await client.signalWorkflow(
      { workflowId: started.workflowId, signalName: "decision", input: json({ approved: true }) },
      { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` } },
    );
    await client.getWorkflowResult({ workflowId: started.workflowId, wait: { seconds: 30n } });
    const inTrace = await eventually(
      async () => spans.filter((s) => s.traceId === traceId),
      (found) => found.some((s) => s.name === "HandleSignal:decision"),
    );
    const byId = new Map(inTrace.map((s) => [s.spanId, s]));
    const handled = inTrace.find((s) => s.name === "HandleSignal:decision");
    expect(handled, inTrace.map((s) => s.name).join(", ")).toBeDefined();
    const sent = byId.get(handled!.parentSpanId!);
    expect(sent?.name).toBe("SignalWorkflow:decision");
    expect(byId.get(sent!.parentSpanId!)?.name).toBe("flowgate.workflow.v1.WorkflowService/SignalWorkflow");
  });

  it("starts a trace of its own for a call without one", async () => {
    const before = spans.length;
    await workflowClient("connect-json", server.baseUrl).listWorkflowTypes({});
    const own = (
      await eventually(
        async () => spans.slice(before).filter((s) => s.name === "flowgate.workflow.v1.WorkflowService/ListWorkflowTypes"),
        (found) => found.length > 0,
      )
    )[0];
    if (own === undefined) throw new Error("the call's span was not exported");
    expect(own.parentSpanId ?? "").toBe("");
    expect(own.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(own.status?.code ?? 0).toBe(0);
  });
});
