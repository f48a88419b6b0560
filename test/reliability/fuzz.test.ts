// Random requests against every face of the server: REST paths, queries, headers and bodies through the
// transcoder; Connect, gRPC and gRPC-Web calls with random, truncated and oversized frames. Whatever
// arrives, the answer is never a server error (no 5xx, no Internal/Unknown/DataLoss), the process never
// crashes, and memory returns to where it was. Two answers are the protocols' own rules, not faults: a
// compression the server does not support is `unimplemented` (HTTP 501 on Connect), so a client can fall
// back to another; a frame flagged compressed on a call that declared no compression is `internal`, as
// the gRPC compression specification requires (and the connectrpc conformance suite checks).
import http2 from "node:http2";
import v8 from "node:v8";
import vm from "node:vm";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** Bounded: a few thousand requests in all, well under a minute. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 600);
const BODY_LIMIT = 16 * 1024;
/** gRPC status codes that mean the server failed, not the request. */
const SERVER_FAULT_CODES = new Set(["2", "13", "15"]);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { bodyLimitBytes: BODY_LIMIT, runTimeoutMs: 2000 } });
});
afterAll(async () => {
  await server?.close();
});

const PROCEDURES = [
  "/flowgate.workflow.v1.WorkflowService/StartWorkflow",
  "/flowgate.workflow.v1.WorkflowService/RunWorkflow",
  "/flowgate.workflow.v1.WorkflowService/GetWorkflowStatus",
  "/flowgate.workflow.v1.WorkflowService/GetWorkflowResult",
  "/flowgate.workflow.v1.WorkflowService/StopWorkflow",
  "/flowgate.workflow.v1.WorkflowService/ListWorkflowTypes",
  "/flowgate.workflow.v1.WorkflowService/GetWorkflowType",
  "/flowgate.workflow.v1.WorkflowService/NoSuchMethod",
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/Watch",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/** Path segments: the real ones, and what a confused or hostile client sends. */
const segment = fc.oneof(
  fc.constantFrom("workflows", "v1", "start", "run", "status", "result", "stop", "types", "health", "live", "ready", "greet"),
  fc.constantFrom("%", "%zz", "%00", "%2F", "..", ".", "%E2%82", "\u00e9", "a".repeat(5000), ""),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const restPath = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join("/")}`),
  fc.tuple(fc.constantFrom("status", "result", "stop", "types"), segment, segment).map(([a, b, c]) => `/workflows/v1/${a}/${b}/${c}`),
);
const query = fc.oneof(
  fc.constant(""),
  fc.dictionary(fc.constantFrom("wait", "run_id", "runId", "workflow_id", "x", "wait.seconds", "%zz", ""), fc.string({ maxLength: 30 }), { maxKeys: 3 })
    .map((q) => `?${Object.entries(q).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`),
  fc.constantFrom("?%", "?a=%zz", "?wait=-1s", "?wait=99999999999s", "?wait=1e400s", "?&&=&"),
);
const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-16",
  "application/proto",
  "application/x-www-form-urlencoded",
  "text/plain",
  "application/connect+json",
  "application/connect+proto",
  "application/grpc-web+proto",
  "application/grpc-web-text",
  "multipart/form-data; boundary=x",
  "",
);
const jsonBody = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.record({ workflow_type: fc.constantFrom("greet", "sleep", "x", ""), input: fc.jsonValue({ maxDepth: 3 }), request_id: fc.string() }, { requiredKeys: [] })
    .map((r) => JSON.stringify(r)),
  fc.record({ workflowType: fc.constantFrom("greet", "nope"), wait: fc.constantFrom("1s", "-5s", "x", "1e9s"), workflowId: fc.string() }, { requiredKeys: [] })
    .map((r) => JSON.stringify(r)),
);
const body = fc.oneof(
  jsonBody,
  jsonBody.map((s) => s.slice(0, Math.floor(s.length / 2))), // truncated
  fc.uint8Array({ maxLength: 256 }),
  fc.constant("x".repeat(BODY_LIMIT + 10)), // over the limit
);
/** Headers a client may get wrong; never a short deadline, which would make a 504 the right answer. */
const headers = fc.dictionary(
  fc.constantFrom("connect-timeout-ms", "connect-protocol-version", "content-encoding", "accept-encoding", "x-request-id", "grpc-timeout", "te"),
  fc.constantFrom("", "abc", "-1", "99999999999999999999", "gzip", "br", "snappy", "2", "1", "\u00e9", "10000000000"),
  { maxKeys: 3 },
).map((h) => {
  // A short valid deadline makes DeadlineExceeded (504) the right answer: keep deadlines invalid or long.
  const value = h["connect-timeout-ms"];
  if (value !== undefined && /^\d{1,5}$/.test(value)) h["connect-timeout-ms"] = "abc";
  return h;
});

/** A length-prefixed frame whose declared length may lie. */
const frame = fc
  .tuple(fc.constantFrom(0, 1, 2, 0x80, 0xff), fc.uint8Array({ maxLength: 128 }), fc.constantFrom("exact", "short", "long", "huge"))
  .map(([flag, message, length]) => {
    const header = Buffer.alloc(5);
    header[0] = flag;
    const declared = { exact: message.length, short: Math.max(0, message.length - 3), long: message.length + 50, huge: 0xffffffff }[length];
    header.writeUInt32BE(declared, 1);
    return Buffer.concat([header, message]);
  });

type Answer = { status: number; grpcStatus?: string; detail: string };

async function send(method: string, path: string, ct: string, extra: Record<string, string>, payload: string | Uint8Array | undefined): Promise<Answer | undefined> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  try {
    const res = await fetch(server.baseUrl + path, {
      method,
      headers: { ...(ct === "" ? {} : { "content-type": ct }), ...extra },
      body: method === "GET" || method === "HEAD" ? undefined : payload,
      signal: abort.signal,
    });
    // A server stream (Health/Watch) that was opened correctly stays open: read what came within 2 s.
    const text = await Promise.race([res.text(), new Promise<string>((resolve) => setTimeout(() => resolve("(stream still open)"), 2000))]);
    abort.abort();
    const grpcStatus = res.headers.get("grpc-status") ?? /grpc-status: ?(\d+)/.exec(text)?.[1];
    return { status: res.status, grpcStatus: grpcStatus ?? undefined, detail: `${method} ${path.slice(0, 200)} ${ct} ${JSON.stringify(extra)} -> ${res.status} ${text.slice(0, 200)}` };
  } catch (err) {
    // undici refuses some headers before sending: nothing reached the server.
    if (err instanceof TypeError && !/fetch failed/.test(err.message)) return undefined;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Connect's answer to an unsupported Content-Encoding, which its specification makes `unimplemented`. */
const UNSUPPORTED_COMPRESSION = /-> 501 \{"code":"unimplemented","message":"unknown compression/;

/** A message encoding header that declares no compression. */
const declaresNoCompression = (encoding: string | undefined) => encoding === undefined || encoding === "" || encoding === "identity";

/**
 * The header that declares how a request's frames are compressed: gRPC-Web's is `grpc-encoding`, a
 * Connect stream's `connect-content-encoding`; `content-encoding` only compresses a unary Connect body.
 */
function encodingHeaderOf(contentType: string | undefined): string {
  const type = (contentType ?? "").toLowerCase();
  if (type.startsWith("application/grpc")) return "grpc-encoding";
  if (type.startsWith("application/connect+")) return "connect-content-encoding";
  return "content-encoding";
}

/** Whether any length-prefixed frame in `payload`, read as frames, has its compressed flag (bit 0) set. */
function flaggedCompressed(payload: string | Uint8Array): boolean {
  const bytes = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  for (let i = 0; i < bytes.length; i += 5 + (i + 5 <= bytes.length ? bytes.readUInt32BE(i + 1) : 0)) {
    if ((bytes[i]! & 1) === 1) return true;
    if (i + 5 > bytes.length) break;
  }
  return false;
}

function expectNoServerFault(answer: Answer | undefined, spec: { compressedFrameWithoutEncoding?: boolean } = {}) {
  if (answer === undefined) return;
  if (!UNSUPPORTED_COMPRESSION.test(answer.detail)) expect(answer.status, answer.detail).toBeLessThan(500);
  if (answer.grpcStatus === "13" && spec.compressedFrameWithoutEncoding) return;
  if (answer.grpcStatus !== undefined) expect(SERVER_FAULT_CODES.has(answer.grpcStatus), answer.detail).toBe(false);
}

function heapMb() {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
}

describe("fuzzing every protocol", () => {
  let heapBefore = 0;
  beforeAll(() => {
    heapBefore = heapMb();
  });

  it("REST: random paths, queries, headers and bodies", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"), restPath, query, contentType, headers, body, async (method, path, q, ct, extra, payload) => {
        expectNoServerFault(await send(method, path + q, ct, extra, payload));
      }),
      { numRuns: RUNS },
    );
  });

  it("Connect and gRPC-Web over HTTP/1.1: random bodies and frames, every procedure", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PROCEDURES),
        contentType,
        headers,
        fc.oneof(body, frame, fc.array(frame, { maxLength: 3 }).map((frames) => Buffer.concat(frames))),
        fc.constantFrom("POST", "GET"),
        async (procedure, ct, extra, payload, method) => {
          const path = method === "GET" ? `${procedure}?encoding=json&message=${encodeURIComponent(String(payload).slice(0, 100))}` : procedure;
          const compressedFrameWithoutEncoding = method === "POST" && declaresNoCompression(extra[encodingHeaderOf(ct)]) && flaggedCompressed(payload);
          expectNoServerFault(await send(method, path, ct, { "connect-protocol-version": "1", ...extra }, payload), { compressedFrameWithoutEncoding });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("gRPC over h2c: random, truncated and oversized frames", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => undefined);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...PROCEDURES),
          fc.constantFrom("application/grpc", "application/grpc+proto", "application/grpc+json", "application/grpc+xml"),
          fc.array(frame, { minLength: 0, maxLength: 3 }),
          fc.dictionary(fc.constantFrom("grpc-timeout", "grpc-encoding", "grpc-accept-encoding"), fc.constantFrom("", "1x", "gzip", "identity", "99999999H", "x"), { maxKeys: 2 }),
          async (procedure, ct, frames, extra) => {
            const answer = await new Promise<Answer>((resolve) => {
              const stream = session.request({ ":method": "POST", ":path": procedure, "content-type": ct, te: "trailers", ...extra });
              let headersSeen: http2.IncomingHttpHeaders = {};
              let grpcStatus: string | undefined;
              stream.on("response", (h) => {
                headersSeen = h;
                grpcStatus ??= h["grpc-status"] as string | undefined;
              });
              stream.on("trailers", (t) => (grpcStatus = t["grpc-status"] as string | undefined));
              const done = () =>
                resolve({ status: Number(headersSeen[":status"] ?? 0), grpcStatus, detail: `${procedure} ${ct} ${JSON.stringify(extra)} ${frames.length} frames -> ${String(headersSeen[":status"])} grpc-status ${grpcStatus}` });
              stream.on("close", done);
              stream.on("error", done);
              stream.resume();
              stream.end(Buffer.concat(frames));
              setTimeout(() => stream.close(), 10_000).unref();
            });
            // A stream the server reset (status 0) reached no handler's error path; anything answered must not be a fault.
            // Frames are read from the concatenated bytes: a truncated or oversized frame shifts where the next flag byte is.
            const compressedFrameWithoutEncoding = declaresNoCompression(extra["grpc-encoding"]) && flaggedCompressed(Buffer.concat(frames));
            if (answer.status !== 0) expectNoServerFault(answer, { compressedFrameWithoutEncoding });
          },
        ),
        {
          numRuns: RUNS,
          // Found by CI: an empty frame, then a byte that becomes the next frame's flag (compressed, without an encoding).
          examples: [["/flowgate.workflow.v1.WorkflowService/StartWorkflow", "application/grpc", [Buffer.from([0, 0, 0, 0, 0, 3]), Buffer.from([0, 0, 0, 0, 0])], {}]],
        },
      );
    } finally {
      session.close();
    }
  });

  it("still serves, and memory is back to where it was", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const heapAfter = heapMb();
    console.info(`fuzz: heap ${heapBefore.toFixed(1)} MB before, ${heapAfter.toFixed(1)} MB after`);
    expect(heapAfter - heapBefore, "heap growth (MB)").toBeLessThan(30);
  });
});
