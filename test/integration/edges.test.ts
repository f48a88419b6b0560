// A client's mistakes at the edge of each protocol: never a 500, always the right code and a message that
// names the problem, and the server keeps serving afterwards.
import http2 from "node:http2";
import net from "node:net";
import { create } from "@bufbuild/protobuf";
import { ListValueSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { bodyLimitBytes: 16 * 1024 } });
});
afterAll(async () => {
  await server?.close();
});

const CONNECT_START = "/flowgate.workflow.v1.WorkflowService/StartWorkflow";
/** Field 1 (a string) whose length runs past the end of the message. */
const MALFORMED_PROTO = new Uint8Array([0x0a, 0xff, 0xff, 0xff]);

/** A gRPC length-prefixed message frame. */
function grpcFrame(message: Uint8Array, flag = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = flag;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

async function post(path: string, body: string | Uint8Array, contentType = "application/json") {
  const res = await fetch(server.baseUrl + path, { method: "POST", headers: { "content-type": contentType }, body });
  return { status: res.status, body: (await res.json()) as { code: string; message: string } };
}

describe("REST edges", () => {
  it("rejects malformed JSON with 400 invalid_argument", async () => {
    const res = await post("/workflows/v1/start", "{not json");
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/not valid JSON/) });
  });

  it("rejects an unknown field, naming it", async () => {
    const res = await post("/workflows/v1/start", JSON.stringify({ workflow_type: "greet", colour: "red" }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/"colour" is unknown/) });
  });

  it("rejects a body that is not an object", async () => {
    const res = await post("/workflows/v1/start", "[1, 2]");
    expect(res).toMatchObject({ status: 400, body: { code: "invalid_argument", message: "request body must be a JSON object" } });
  });

  it("accepts the JSON names too, and a body sent as curl's default form encoding", async () => {
    const res = await post(
      "/workflows/v1/run",
      JSON.stringify({ workflowType: "greet", input: { name: "Lin" } }),
      "application/x-www-form-urlencoded",
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "WORKFLOW_STATUS_COMPLETED", result: { greeting: "Hello, Lin!" } });
  });

  it("answers a body over the limit with 413 resource_exhausted", async () => {
    const res = await post("/workflows/v1/start", JSON.stringify({ workflow_type: "greet", input: "x".repeat(20_000) }));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("resource_exhausted");
  });

  it("answers an unknown path with 404 and a wrong method with 405 and Allow", async () => {
    const missing = await fetch(`${server.baseUrl}/workflows/v1/nothing-here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "not_found", message: "no route for GET /workflows/v1/nothing-here" });

    const wrong = await fetch(`${server.baseUrl}/workflows/v1/start`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(await wrong.json()).toMatchObject({ code: "unimplemented", message: expect.stringMatching(/use POST/) });
  });

  it("rejects unknown and malformed query parameters, naming them", async () => {
    const unknown = await fetch(`${server.baseUrl}/workflows/v1/result/some-id?colour=red`);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ message: 'unknown query parameter "colour"' });

    const badWait = await fetch(`${server.baseUrl}/workflows/v1/result/some-id?wait=soon`);
    expect(badWait.status).toBe(400);
    expect(((await badWait.json()) as { message: string }).message).toMatch(/wait/);
  });

  it("decodes percent-encoded path variables", async () => {
    const res = await fetch(`${server.baseUrl}/workflows/v1/status/${encodeURIComponent("no such/id")}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ message: 'workflow "no such/id" not found' });
  });
});

describe("Connect edges", () => {
  it("rejects malformed JSON and unknown fields with invalid_argument", async () => {
    const bad = await post(CONNECT_START, "{not json");
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("invalid_argument");

    const unknown = await post(CONNECT_START, JSON.stringify({ workflowType: "greet", colour: "red" }));
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/colour/) });
  });

  it("rejects malformed protobuf with invalid_argument", async () => {
    const res = await post(CONNECT_START, MALFORMED_PROTO, "application/proto");
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^parse binary:/) });
  });

  it("rejects a message over the limit with resource_exhausted", async () => {
    const res = await post(CONNECT_START, JSON.stringify({ workflowType: "greet", input: "x".repeat(20_000) }));
    expect(res.body.code).toBe("resource_exhausted");
  });

  it("serves read-only RPCs over GET", async () => {
    const message = encodeURIComponent(JSON.stringify({ workflowId: "never-started" }));
    const res = await fetch(
      `${server.baseUrl}/flowgate.workflow.v1.WorkflowService/GetWorkflowStatus?connect=v1&encoding=json&message=${message}`,
    );
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "not_found" });
  });
});

describe("gRPC edges", () => {
  it("answers an unknown method with grpc-status Unimplemented", async () => {
    const session = http2.connect(server.baseUrl);
    try {
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": "/flowgate.workflow.v1.NoSuchService/Nothing",
          "content-type": "application/grpc",
          te: "trailers",
        });
        stream.on("response", resolve);
        stream.on("error", reject);
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
      expect(headers[":status"]).toBe(200);
      expect(headers["grpc-status"]).toBe(String(Code.Unimplemented));
      expect(decodeURIComponent(String(headers["grpc-message"]))).toMatch(/NoSuchService/);
    } finally {
      session.close();
    }
  });

  it("rejects malformed protobuf with InvalidArgument", async () => {
    const session = http2.connect(server.baseUrl);
    try {
      const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": CONNECT_START, "content-type": "application/grpc", te: "trailers" });
        let headers: http2.IncomingHttpHeaders = {};
        stream.on("response", (h) => (headers = h));
        stream.on("trailers", resolve);
        stream.on("end", () => resolve(headers)); // a trailers-only answer carries the status in its headers
        stream.on("error", reject);
        stream.resume();
        stream.end(grpcFrame(MALFORMED_PROTO));
      });
      expect(trailers["grpc-status"]).toBe(String(Code.InvalidArgument));
      expect(decodeURIComponent(String(trailers["grpc-message"]))).toMatch(/^parse binary:/);
    } finally {
      session.close();
    }
  });

  it.each([
    ["a truncated gzip body", { "grpc-encoding": "gzip" }, grpcFrame(new Uint8Array([0x1f]), 1), /decompression failed/],
  ])("rejects %s with InvalidArgument, not Internal", async (_name, headers, body, message) => {
    const session = http2.connect(server.baseUrl);
    try {
      const status = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": CONNECT_START, "content-type": "application/grpc", te: "trailers", ...headers });
        let first: http2.IncomingHttpHeaders = {};
        stream.on("response", (h) => (first = h));
        stream.on("trailers", resolve);
        stream.on("end", () => resolve(first));
        stream.on("error", reject);
        stream.resume();
        stream.end(body);
      });
      expect(status["grpc-status"]).toBe(String(Code.InvalidArgument));
      expect(decodeURIComponent(String(status["grpc-message"]))).toMatch(message);
    } finally {
      session.close();
    }
  });

  it("rejects malformed protobuf on gRPC-Web with InvalidArgument", async () => {
    const res = await fetch(server.baseUrl + CONNECT_START, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: grpcFrame(MALFORMED_PROTO),
    });
    const body = Buffer.from(await res.arrayBuffer());
    const trailer = body.subarray(body.indexOf(0x80) + 5).toString("latin1");
    expect(trailer).toMatch(/grpc-status: ?3\r\n/);
    expect(decodeURIComponent(trailer)).toMatch(/grpc-message: ?parse binary:/);
  });

  it("still serves after all of the above", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });
});

describe("many calls at once", () => {
  // Node warns on stderr when more than ten listeners wait on one AbortSignal. Two things did that: every
  // call in flight listening on the server's shutdown signal, and a wait's long poll to Temporal under a
  // gRPC deadline, which Temporal answers at once while the deadline is near, so the SDK polled hundreds
  // of times a second (one listener each) until the wait ended.
  it("holds 40 waits open together, each one poll to Temporal, with no listener-leak warning", async () => {
    const workflows = createClient(WorkflowService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    const workflowId = `edges-many-${crypto.randomUUID()}`;
    await workflows.startWorkflow({ workflowType: "sleep", workflowId, input: create(ValueSchema, { kind: { case: "structValue", value: { fields: { seconds: create(ValueSchema, { kind: { case: "numberValue", value: 60 } }) } } } }) });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      // Each waits 500 ms for a run that sleeps a minute: all 40 are in flight at once.
      const results = await Promise.all(Array.from({ length: 40 }, () => workflows.getWorkflowResult({ workflowId, wait: { seconds: 0n, nanos: 500_000_000 } })));
      expect(results.every((r) => r.runId !== "")).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    } finally {
      process.off("warning", onWarning);
      await workflows.stopWorkflow({ workflowId, terminate: true });
    }
  });
});

/** One HTTP/1.1 request written as is (fetch would refuse a bad Host); the status line and the body. */
function rawRequest(text: string): Promise<{ statusLine: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(server.hostPort.split(":")[1]), "127.0.0.1", () => socket.end(text));
    let out = "";
    socket.on("data", (d: Buffer) => (out += d.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve({ statusLine: out.split("\r\n")[0]!, body: out.slice(out.indexOf("\r\n\r\n") + 4) }));
  });
}

describe("client mistakes are never a server error", () => {
  it.each(["exa mple", "[::1", "a:b:c", "%%"])("refuses the Host header %j with 400 invalid_argument on REST and Connect", async (host) => {
    const rest = await rawRequest(`GET /workflows/v1/status/x/y HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(rest.statusLine).toBe("HTTP/1.1 400 Bad Request");
    expect(JSON.parse(rest.body)).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/Host header .* is not a valid authority/) });
    const connect = await rawRequest(
      `POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    );
    expect(connect.statusLine).toBe("HTTP/1.1 400 Bad Request");
    expect(JSON.parse(connect.body)).toMatchObject({ code: "invalid_argument" });
  });

  it.each([
    ["NaN", create(ValueSchema, { kind: { case: "numberValue", value: Number.NaN } }), /^input: NaN is not a JSON number/],
    [
      "Infinity inside a list",
      create(ValueSchema, { kind: { case: "listValue", value: create(ListValueSchema, { values: [create(ValueSchema, { kind: { case: "numberValue", value: Infinity } })] }) } }),
      /^input\[0\]: Infinity is not a JSON number/,
    ],
    ["a Value with no kind", create(ValueSchema), /^input: a google.protobuf.Value with no kind set/],
  ])("refuses %s in a binary input with invalid_argument, naming where", async (_name, input, message) => {
    for (const transport of [createGrpcTransport({ baseUrl: server.baseUrl }), createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1", useBinaryFormat: true })]) {
      const err = await createClient(WorkflowService, transport)
        .startWorkflow({ workflowType: "greet", input })
        .then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(err?.code, err?.rawMessage).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(message);
    }
  });

  it("answers the reflection stream over HTTP/1.1 in the caller's protocol, not with 505", async () => {
    const path = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
    const connect = await rawRequest(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/connect+json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    expect(connect.statusLine).toBe("HTTP/1.1 200 OK");
    expect(connect.body).toMatch(/"code":"failed_precondition","message":"ServerReflectionInfo is a bidirectional stream, which needs HTTP\/2/);
    const grpcWeb = await rawRequest(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc-web+proto\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    expect(grpcWeb.statusLine).toBe("HTTP/1.1 200 OK");
    expect(grpcWeb.body).toMatch(/grpc-status: 9\r\n/);
  });
});

describe("REST URLs", () => {
  it("accepts a workflow id of 1000 characters in the path", async () => {
    const id = "x".repeat(1000);
    const res = await fetch(`${server.baseUrl}/workflows/v1/status/${id}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toContain(id);
  });

  it("answers a malformed percent-encoding with 400 in the Connect shape", async () => {
    const res = await fetch(`${server.baseUrl}/workflows/v1/status/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/malformed request URL/) });
  });

  it("ignores a trailing slash", async () => {
    const res = await post("/workflows/v1/run/", JSON.stringify({ workflow_type: "greet", input: { name: "Kay" } }));
    expect(res).toMatchObject({ status: 200, body: { status: "WORKFLOW_STATUS_COMPLETED" } });
  });
});

describe("gRPC-Web text mode", () => {
  it("is refused in the caller's protocol, naming the binary mode to use instead", async () => {
    // An empty request message, framed and base64-encoded as Google's grpc-web client sends it by default.
    const res = await fetch(`${server.baseUrl}/flowgate.workflow.v1.WorkflowService/ListWorkflowTypes`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web-text", "x-grpc-web": "1", accept: "application/grpc-web-text" },
      body: Buffer.from([0, 0, 0, 0, 0]).toString("base64"),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("grpc-status")).toBe(String(Code.Unimplemented));
    expect(decodeURIComponent(res.headers.get("grpc-message")!)).toMatch(/^gRPC-Web text mode \(application\/grpc-web-text\) is not served: use binary mode/);
    // And the server goes on serving binary gRPC-Web.
    const ok = await fetch(`${server.baseUrl}/flowgate.workflow.v1.WorkflowService/ListWorkflowTypes`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: Buffer.from([0, 0, 0, 0, 0]),
    });
    expect(ok.headers.get("grpc-status") ?? "0").toBe("0");
    expect(ok.status).toBe(200);
  });
});
