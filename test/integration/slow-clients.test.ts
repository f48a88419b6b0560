// Clients that hold connections by sending slowly or by opening many: headers and bodies trickled a byte at a
// time are cut at their timeouts on every protocol, connections over a cap are closed as they come, and
// HTTP/2 clients are told how many streams a connection may carry. Bodies that are streams by design, and
// calls that wait long for their answer, are left alone.
import http2 from "node:http2";
import net from "node:net";
import { randomUUID } from "node:crypto";
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UploadFileRequestSchema, type UploadFileRequest } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { connectClient, workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const json = (value: JsonValue) => fromJson(ValueSchema, value);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TIMEOUT_MS = 1000;
const LINGER_MS = 500;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    config: { headersTimeoutMs: TIMEOUT_MS, bodyTimeoutMs: TIMEOUT_MS, maxStreamsPerConnection: 7 },
    unreadBody: { lingerMs: LINGER_MS },
  });
});
afterAll(async () => {
  await server?.close();
});

interface Exchange {
  /** Everything the server sent. */
  readonly received: string;
  /** Milliseconds from the first byte sent until the server closed the connection. */
  readonly closedAfterMs: number;
}

/**
 * Sends `head`, then `trickle` one byte every 100 ms for as long as the server keeps the connection open,
 * and returns what came back and when the connection closed.
 */
function trickle(hostPort: string, head: string, trickled: string): Promise<Exchange> {
  const [host, port] = hostPort.split(":");
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host);
    const chunks: Buffer[] = [];
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", () => undefined);
    socket.once("connect", () => {
      started = Date.now();
      socket.write(head);
      let i = 0;
      timer = setInterval(() => {
        if (i < trickled.length && !socket.destroyed) socket.write(trickled[i++]!);
      }, 100);
    });
    socket.once("close", () => {
      clearInterval(timer);
      resolve({ received: Buffer.concat(chunks).toString("latin1"), closedAfterMs: Date.now() - started });
    });
    setTimeout(() => reject(new Error("the server kept a trickling connection open for 20 s")), 20_000).unref();
  });
}

const startBody = JSON.stringify({ workflow_type: "greet", input: { name: "slow" } });

describe("a client that sends slowly", () => {
  it("has its HTTP/1.1 connection closed with 408 when its headers trickle past the headers timeout", async () => {
    const { received, closedAfterMs } = await trickle(server.hostPort, "GET /health/live HTTP/1.1\r\n", "Host: 127.0.0.1\r\nX-Slow: " + "a".repeat(400));
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    // Node checks every second: closed between the timeout and a second later (and some slack for a busy CI).
    expect(closedAfterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(closedAfterMs).toBeLessThan(TIMEOUT_MS + 2500);
  });

  it("has a connection that never says which protocol it speaks closed after the headers timeout", async () => {
    // The first bytes of HTTP/2's preface, then nothing that finishes it.
    const { received, closedAfterMs } = await trickle(server.hostPort, "PRI * HTTP/2", "");
    expect(received).toBe("");
    expect(closedAfterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(closedAfterMs).toBeLessThan(TIMEOUT_MS + 2500);
  });

  describe.each([
    { form: "REST", path: "/workflows/v1/start", contentType: "application/json", status: 408 },
    { form: "Connect", path: "/flowgate.workflow.v1.WorkflowService/StartWorkflow", contentType: "application/json", status: 504 },
  ])("over HTTP/1.1, $form", ({ path, contentType, status }) => {
    it(`answers a body that trickles past the body timeout with deadline_exceeded (HTTP ${status}) and closes the connection`, async () => {
      const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${startBody.length}\r\n\r\n`;
      const { received, closedAfterMs } = await trickle(server.hostPort, head, startBody);
      expect(received).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(received).toMatch(/\r\nconnection: close\r\n/i);
      const body = JSON.parse(received.slice(received.indexOf("\r\n\r\n") + 4)) as { code: string; message: string };
      expect(body.code).toBe("deadline_exceeded");
      expect(body.message).toBe(
        "the request body did not arrive within 1 s of its headers (FLOWGATE_BODY_TIMEOUT): send it at once, not a little at a time",
      );
      expect(closedAfterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(closedAfterMs).toBeLessThan(TIMEOUT_MS + LINGER_MS + 1500);
    });
  });

  it("answers a gRPC call whose message trickles over HTTP/2 with DEADLINE_EXCEEDED, and resets its stream", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => undefined);
    try {
      const started = Date.now();
      const stream = session.request({
        ":method": "POST",
        ":path": "/flowgate.workflow.v1.WorkflowService/StartWorkflow",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => undefined);
      // The frame header announces 100 bytes; they come one every 100 ms.
      stream.write(Buffer.from([0, 0, 0, 0, 100]));
      const writer = setInterval(() => stream.destroyed || stream.write(Buffer.from([0])), 100);
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve));
      const closed = new Promise<number>((resolve) => stream.once("close", () => resolve(Date.now() - started)));
      clearInterval(writer);
      expect(headers["grpc-status"]).toBe("4");
      expect(decodeURIComponent(String(headers["grpc-message"]))).toMatch(/^the request body did not arrive within 1 s of its headers/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(await closed).toBeLessThan(TIMEOUT_MS + LINGER_MS + 1500);
    } finally {
      session.destroy();
    }
  });

  it("is served when its body is slow but within the body timeout", async () => {
    const head = `POST /workflows/v1/start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${startBody.length}\r\nConnection: close\r\n\r\n`;
    const [host, port] = server.hostPort.split(":");
    const socket = net.connect(Number(port), host);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(head);
    const third = Math.ceil(startBody.length / 3);
    for (let i = 0; i < 3; i++) {
      await sleep(250);
      socket.write(startBody.slice(i * third, (i + 1) * third));
    }
    await new Promise((resolve) => socket.once("close", resolve));
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it("keeps an upload that streams for longer than the body timeout", async () => {
    async function* slowly(): AsyncIterable<UploadFileRequest> {
      yield create(UploadFileRequestSchema, { part: { case: "info", value: { filename: "slow.txt", contentType: "text/plain" } } });
      for (let i = 0; i < 6; i++) {
        await sleep(400);
        yield create(UploadFileRequestSchema, { part: { case: "chunk", value: new TextEncoder().encode(`line ${i}\n`) } });
      }
    }
    const started = Date.now();
    const res = await connectClient("grpc", server.baseUrl).uploadFile(slowly());
    expect(Date.now() - started).toBeGreaterThan(2 * TIMEOUT_MS);
    expect(res.size).toBe(BigInt(6 * "line 0\n".length));
  });

  it.each(["http/1.1", "h2c"] as const)("keeps a bodiless GET over %s that waits longer than the body timeout for its answer", async (transport) => {
    const started = await workflowClient("connect-json", server.baseUrl).startWorkflow({ workflowType: "sleep", input: json({ seconds: 2 }) });
    const path = `/workflows/v1/result/${started.workflowId}?wait=10s`;
    const t0 = Date.now();
    let status: number;
    if (transport === "http/1.1") {
      status = (await fetch(`${server.baseUrl}${path}`)).status;
    } else {
      const session = http2.connect(server.baseUrl);
      try {
        const stream = session.request({ ":method": "GET", ":path": path });
        stream.resume();
        status = Number((await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve)))[":status"]);
      } finally {
        session.close();
      }
    }
    expect(status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThan(TIMEOUT_MS + 500);
  });

  it("waits long calls out on gRPC too: RunWorkflow of a 2 s sleep", async () => {
    const res = await connectClient("grpc", server.baseUrl).runWorkflow({ workflowType: "sleep", workflowId: `slow-${randomUUID()}`, input: json({ seconds: 2 }) });
    expect(res.outcome.case).toBe("result");
    expect(toJson(ValueSchema, res.outcome.value as Value)).toEqual({ slept_seconds: 2 });
  });
});

describe("HTTP/2 settings", () => {
  it("advertises SETTINGS_MAX_CONCURRENT_STREAMS", async () => {
    const session = http2.connect(server.baseUrl);
    try {
      const settings = await new Promise<http2.Settings>((resolve) => session.once("remoteSettings", resolve));
      expect(settings.maxConcurrentStreams).toBe(7);
    } finally {
      session.close();
    }
  });
});

describe("connection caps", () => {
  /** A connection that is open until the server closes it, or the test does. */
  async function open(hostPort: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
    const [host, port] = hostPort.split(":");
    const socket = net.connect(Number(port), host);
    socket.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await new Promise((resolve) => socket.once("connect", resolve));
    return { socket, closed };
  }
  const closedWithin = (closed: Promise<void>, ms: number) => Promise.race([closed.then(() => true), sleep(ms).then(() => false)]);

  it.each([
    { cap: "maxConnectionsPerAddress", reason: "connections_per_address" },
    { cap: "maxConnections", reason: "connections" },
  ] as const)("closes one connection more than $cap at once, counts it, and takes one again when another closes", async ({ cap, reason }) => {
    const capped = await startTestServer({ config: { [cap]: 3 } });
    try {
      const held = await Promise.all([0, 1, 2].map(() => open(capped.hostPort)));
      const extra = await open(capped.hostPort);
      expect(await closedWithin(extra.closed, 1000), "the fourth connection is closed").toBe(true);
      for (const { closed } of held) expect(await closedWithin(closed, 100), "the first three stay open").toBe(false);
      held[0]!.socket.destroy();
      await held[0]!.closed;
      // The server sees the close a moment after the client; a probe may need a second try.
      let live: Response | undefined;
      for (let attempt = 0; attempt < 20 && live === undefined; attempt++) {
        live = await fetch(`${capped.baseUrl}/health/live`, { headers: { connection: "close" } }).catch(() => undefined);
        if (live === undefined) await sleep(50);
      }
      expect(live?.status).toBe(200);
      const metrics = await (await fetch(`${capped.baseUrl}/metrics`, { headers: { connection: "close" } })).text();
      expect(metrics).toMatch(new RegExp(`^flowgate_connections_refused_total\\{reason="${reason}"\\} [1-9]`, "m"));
      for (const { socket } of held) socket.destroy();
    } finally {
      await capped.close();
    }
  });
});

describe("GetWorkflowResult's wait", () => {
  it("is not a body timeout: a 2 s wait over gRPC answers with the result", async () => {
    const client = connectClient("grpc", server.baseUrl);
    const started = await client.startWorkflow({ workflowType: "sleep", input: json({ seconds: 2 }) });
    const res = await client.getWorkflowResult({ workflowId: started.workflowId, wait: durationFromMs(10_000) });
    expect(res.outcome.case).toBe("result");
    expect(toJson(ValueSchema, res.outcome.value as Value)).toEqual({ slept_seconds: 2 });
  });
});
