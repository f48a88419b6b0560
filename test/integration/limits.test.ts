// Bodies over the limit, on every protocol: the answer is a status the caller can read (REST 413, Connect's
// and gRPC's resource_exhausted), sent at the limit rather than after the whole body, and the rest of the
// body is settled without breaking that answer: drained for a bounded time on HTTP/1.1 (a lingering close),
// the stream reset with NO_ERROR on HTTP/2.
import http2 from "node:http2";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const LIMIT = 1024 * 1024;
/** Far more than the kernel's socket buffers on loopback hold, so a server that stops reading is seen. */
const BIG = 24 * 1024 * 1024;
const LINGER_MS = 1500;

let server: TestServer;
let port: number;
beforeAll(async () => {
  server = await startTestServer({ config: { bodyLimitBytes: LIMIT }, unreadBody: { lingerMs: LINGER_MS, lingerBytes: 2 * BIG } });
  port = Number(new URL(server.baseUrl).port);
});
afterAll(async () => {
  await server?.close();
});

const START_REST = "/workflows/v1/start";
const START_RPC = "/flowgate.workflow.v1.WorkflowService/StartWorkflow";

interface Exchange {
  /** Everything the server sent, as text. */
  readonly answer: string;
  /** The error writing the body drew (EPIPE, ECONNRESET), if any. */
  readonly writeError: string | undefined;
  readonly written: number;
  /** Milliseconds from the end of writing (or of the stall) to the server closing the connection. */
  readonly closedAfterMs: number | undefined;
}

/**
 * What Python's `requests` and curl without Expect do: the whole request is written before anything is read.
 * `stallAfter` stops writing after that many body bytes and leaves the connection open.
 */
function writeAllThenRead(head: string, size: number, options: { chunked?: boolean; stallAfter?: number } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    // Half-open allowed: the server's FIN (sent with a closing answer) does not end the client's sending.
    const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const received: Buffer[] = [];
    let writeError: string | undefined;
    let written = 0;
    let stoppedAt = 0;
    socket.pause(); // nothing is read until the body is out, as a blocking client does
    socket.on("error", (err: NodeJS.ErrnoException) => (writeError ??= err.code ?? err.message));
    socket.on("close", () =>
      resolve({ answer: Buffer.concat(received).toString("latin1"), writeError, written, closedAfterMs: stoppedAt === 0 ? undefined : Date.now() - stoppedAt }),
    );
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    void (async () => {
      socket.write(head);
      const until = Math.min(size, options.stallAfter ?? size);
      while (written < until && !socket.destroyed) {
        const part = chunk.subarray(0, Math.min(chunk.length, until - written));
        const frame = options.chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n")]) : part;
        written += part.length;
        if (!socket.write(frame)) await drainedOrClosed(socket);
      }
      if (options.chunked && options.stallAfter === undefined && !socket.destroyed) socket.write("0\r\n\r\n");
      stoppedAt = Date.now();
      socket.on("data", (d: Buffer) => received.push(d));
      socket.resume();
      if (options.stallAfter === undefined) {
        socket.end();
        return;
      }
      // A stalled client still trickles: the first byte sent after the server has let go draws a reset,
      // which is when the connection was closed.
      const trickle = setInterval(() => (socket.destroyed ? clearInterval(trickle) : socket.write(" ")), 50);
    })();
    setTimeout(() => socket.destroy(), 20_000).unref();
  });
}

function drainedOrClosed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done).off("close", done);
      resolve();
    };
    socket.on("drain", done).on("close", done);
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);

describe("a body over the limit, written in full before the answer is read", () => {
  it("REST with a Content-Length: 413 resource_exhausted naming the limit, not a broken pipe", async () => {
    const res = await writeAllThenRead(`POST ${START_REST} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${BIG}\r\n\r\n`, BIG);
    expect(res.writeError).toBeUndefined();
    expect(res.written).toBe(BIG);
    expect(statusOf(res.answer)).toBe(413);
    expect(res.answer).toContain('"code":"resource_exhausted"');
    expect(res.answer).toContain(String(LIMIT));
  });

  it("REST chunked: 413, not a reset", async () => {
    const res = await writeAllThenRead(`POST ${START_REST} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`, BIG, { chunked: true });
    expect(res.writeError).toBeUndefined();
    expect(statusOf(res.answer)).toBe(413);
    expect(res.answer).toContain('"code":"resource_exhausted"');
  });

  it("Connect unary, chunked: resource_exhausted in Connect's error body, not a reset", async () => {
    const res = await writeAllThenRead(
      `POST ${START_RPC} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\nconnect-protocol-version: 1\r\ntransfer-encoding: chunked\r\n\r\n`,
      BIG,
      { chunked: true },
    );
    expect(res.writeError).toBeUndefined();
    expect(statusOf(res.answer)).toBe(429);
    expect(res.answer).toContain('"code":"resource_exhausted"');
  });

  it("gRPC-Web: resource_exhausted in the trailers, not a reset", async () => {
    const frameHead = Buffer.alloc(5);
    frameHead.writeUInt32BE(BIG - 5, 1);
    const res = await writeAllThenRead(
      `POST ${START_RPC} HTTP/1.1\r\nhost: x\r\ncontent-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\ncontent-length: ${BIG}\r\n\r\n${frameHead.toString("latin1")}`,
      BIG - 5,
    );
    expect(res.writeError).toBeUndefined();
    expect(statusOf(res.answer)).toBe(200);
    expect(res.answer).toMatch(/grpc-status: ?8/);
  });
});

describe("the answer comes at the limit, and the rest of the body is drained only for a bounded time", () => {
  it("answers a Connect call that stops sending past the limit, then closes the connection after the linger", async () => {
    const res = await writeAllThenRead(
      `POST ${START_RPC} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnect-protocol-version: 1\r\ncontent-length: ${BIG}\r\n\r\n`,
      BIG,
      { stallAfter: 2 * LIMIT },
    );
    expect(statusOf(res.answer)).toBe(429);
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(LINGER_MS - 200);
    expect(res.closedAfterMs).toBeLessThan(LINGER_MS + 2000);
  });

  it("answers a REST call that declares too big a body before any of it, and closes after the linger", async () => {
    const res = await writeAllThenRead(`POST ${START_REST} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${BIG}\r\n\r\n`, BIG, { stallAfter: 0 });
    expect(statusOf(res.answer)).toBe(413);
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(LINGER_MS - 200);
    expect(res.closedAfterMs).toBeLessThan(LINGER_MS + 2000);
  });

  it("keeps a Connect connection serving once the refused body has come in full", async () => {
    const body = Buffer.alloc(2 * LIMIT, 0x20);
    const socket = net.connect(port, "127.0.0.1");
    const answers: string[] = [];
    socket.on("data", (d: Buffer) => answers.push(d.toString("latin1")));
    socket.write(`POST ${START_RPC} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnect-protocol-version: 1\r\ncontent-length: ${body.length}\r\n\r\n`);
    socket.write(body);
    const health = "GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n";
    await new Promise((r) => setTimeout(r, 300));
    socket.write(health);
    await new Promise((r) => setTimeout(r, 500));
    socket.destroy();
    const all = answers.join("");
    expect(all).toMatch(/^HTTP\/1\.1 429/);
    expect(all).toMatch(/HTTP\/1\.1 200[\s\S]*$/);
  });

  it("serves a dozen refused bodies on one connection without gathering a listener for each", async () => {
    // Each refusal drained to its end used to leave a 'close' listener on the socket: Node warned at the
    // eleventh, and the connection held every refused request until it closed.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    const body = Buffer.alloc(2 * LIMIT, 0x20);
    const socket = net.connect(port, "127.0.0.1");
    let answered = "";
    socket.on("data", (d: Buffer) => (answered += d.toString("latin1")));
    try {
      for (let i = 0; i < 12; i++) {
        socket.write(`POST ${START_RPC} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnect-protocol-version: 1\r\ncontent-length: ${body.length}\r\n\r\n`);
        socket.write(body);
        const before = (answered.match(/HTTP\/1\.1 429/g) ?? []).length;
        for (let wait = 0; wait < 50 && (answered.match(/HTTP\/1\.1 429/g) ?? []).length === before; wait++) await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      socket.destroy();
      process.off("warning", onWarning);
    }
    expect((answered.match(/HTTP\/1\.1 429/g) ?? []).length).toBe(12);
    expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
  });
});

describe("gRPC over HTTP/2", () => {
  it("answers an oversized message with resource_exhausted at once, drains, then resets the stream with NO_ERROR", async () => {
    const session = http2.connect(server.baseUrl);
    try {
      const frame = Buffer.alloc(5 + BIG);
      frame.writeUInt32BE(BIG, 1);
      const t0 = Date.now();
      const stream = session.request({ ":method": "POST", ":path": START_RPC, "content-type": "application/grpc", te: "trailers" });
      stream.on("error", () => undefined);
      const answer = await new Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }>((resolve) => {
        let headers: http2.IncomingHttpHeaders = {};
        let trailers: http2.IncomingHttpHeaders = {};
        stream.on("response", (h) => (headers = h));
        stream.on("trailers", (t) => (trailers = t));
        stream.on("end", () => resolve({ headers, trailers }));
        stream.resume();
        // Written as a client does, waiting for the window (Node's own client resets a stream it buffers
        // more than 10 MB for, with ENHANCE_YOUR_CALM).
        void (async () => {
          for (let at = 0; at < frame.length && !stream.closed; at += 64 * 1024) {
            if (stream.write(frame.subarray(at, at + 64 * 1024))) continue;
            // Drained or closed, whichever comes first; the other listener goes too.
            await new Promise<void>((resolve) => {
              const done = () => {
                stream.off("drain", done).off("close", done);
                resolve();
              };
              stream.once("drain", done).once("close", done);
            });
          }
        })();
      });
      const status = answer.trailers["grpc-status"] ?? answer.headers["grpc-status"];
      const message = decodeURIComponent(String(answer.trailers["grpc-message"] ?? answer.headers["grpc-message"]));
      expect({ status: answer.headers[":status"], grpcStatus: status }).toEqual({ status: 200, grpcStatus: "8" });
      expect(message).toMatch(/larger than/);
      // Answered at the limit: far less than the 24 MiB frame has gone (the flow-control window is 64 KiB).
      expect(Date.now() - t0).toBeLessThan(5000);
      // Past the linger the server resets the stream with NO_ERROR (Node's client marks it closed with code
      // 0, and would otherwise wait forever to send the rest).
      await eventually(async () => stream.closed, (closed) => closed);
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      stream.destroy();
      // The session is intact: the next call on it is served.
      const ok = await new Promise<unknown>((resolve) => {
        const next = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc", te: "trailers" });
        next.on("trailers", (t) => resolve(t["grpc-status"]));
        next.on("error", resolve);
        next.resume();
        next.end(Buffer.alloc(5));
      });
      expect(ok).toBe("0");
    } finally {
      session.destroy();
    }
  });
});
