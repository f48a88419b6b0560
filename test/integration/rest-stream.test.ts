// Server-streaming RPCs over REST (SSE and NDJSON), tested on the transport alone: a real server built from
// src/server serves WorkflowService with an in-test watchWorkflow whose behaviour each test scripts (by the
// workflow id it is called with), and real clients read it: fetch with a stream reader, curl -N, and a
// Connect client on the same port.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type HandlerContext } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  WorkflowService,
  type WatchWorkflowRequest,
  type WatchWorkflowResponseSchema,
} from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { cachedProbe, createServer, serve } from "../../src/server/index.js";

type Event = MessageInitShape<typeof WatchWorkflowResponseSchema>;
type Script = (req: WatchWorkflowRequest, ctx: HandlerContext) => AsyncIterable<Event>;

const HEARTBEAT_MS = 100;
/** Long enough for several heartbeats, short enough to keep the suite quick. */
const READ_TIMEOUT_MS = 5000;

/** What the handler saw of one call. */
interface Call {
  readonly request: WatchWorkflowRequest;
  readonly signal: AbortSignal;
}

const scripts = new Map<string, Script>();
const calls = new Map<string, Call>();

/** Registers the handler's behaviour for one workflow id (each test uses its own). */
function script(workflowId: string, fn: Script): string {
  scripts.set(workflowId, fn);
  return workflowId;
}

/** Resolves when the call's signal aborts, with the abort's reason. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
  });
}

/** A promise a test resolves to let the handler go on; `until` also gives up when the call is aborted. */
function gate(): { readonly opened: Promise<void>; open(): void; until(signal: AbortSignal): Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open, until: (signal) => Promise.race([opened, untilAborted(signal)]) };
}

/** The handler's wait until the client goes away: it throws the abort's reason, as a real handler would. */
async function untilAborted(signal: AbortSignal): Promise<never> {
  throw await aborted(signal);
}

let app: FastifyInstance;
let baseUrl: string;

beforeAll(async () => {
  app = await createServer({
    services: [
      serve(WorkflowService, {
        async *watchWorkflow(req, ctx) {
          calls.set(req.workflowId, { request: req, signal: ctx.signal });
          const fn = scripts.get(req.workflowId);
          if (fn === undefined) throw new ConnectError(`workflow ${req.workflowId} not found`, Code.NotFound);
          yield* fn(req, ctx);
        },
      }),
    ],
    errorTables: [],
    readiness: cachedProbe(async () => ({ ready: true, checks: {} })),
    logger: pino({ level: process.env.FLOWGATE_TEST_LOG_LEVEL ?? "silent" }),
    bodyLimitBytes: 64 * 1024,
    streamHeartbeatMs: HEARTBEAT_MS,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

/** Bodies still being read: a test that fails half-way must not leave its stream holding the server open. */
const readers = new Set<FrameReader>();

afterEach(async () => {
  await Promise.all([...readers].map((r) => r.cancel()));
  readers.clear();
});

afterAll(async () => {
  await app?.close();
});

/** Reads a fetch body up to each separator, as it arrives. */
class FrameReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = "";

  constructor(res: Response, private readonly separator: string) {
    this.reader = res.body!.getReader();
    readers.add(this);
  }

  /** The next frame, without its separator; undefined once the body has ended (with nothing left over). */
  async next(): Promise<string | undefined> {
    for (;;) {
      const at = this.buffer.indexOf(this.separator);
      if (at !== -1) {
        const frame = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + this.separator.length);
        return frame;
      }
      const chunk = await Promise.race([
        this.reader.read(),
        sleep(READ_TIMEOUT_MS).then(() => {
          throw new Error(`no frame within ${READ_TIMEOUT_MS} ms; have ${JSON.stringify(this.buffer)}`);
        }),
      ]);
      if (chunk.done) {
        expect(this.buffer, "bytes after the last frame").toBe("");
        return undefined;
      }
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  async cancel(): Promise<void> {
    readers.delete(this);
    await this.reader.cancel().catch(() => undefined);
  }
}

interface SseEvent {
  id?: string;
  event?: string;
  data?: unknown;
  comment?: string;
}

/** One SSE event block, parsed as EventSource would (data as JSON). */
function parseSse(block: string): SseEvent {
  const event: SseEvent = {};
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, "");
    if (field === "") event.comment = value;
    else if (field === "id") event.id = value;
    else if (field === "event") event.event = value;
    else if (field === "data") event.data = JSON.parse(value);
    else throw new Error(`unexpected SSE line ${JSON.stringify(line)}`);
  }
  return event;
}

async function nextSse(reader: FrameReader): Promise<SseEvent | undefined> {
  const block = await reader.next();
  return block === undefined ? undefined : parseSse(block);
}

/** The next SSE event that is not a heartbeat. */
async function nextSseEvent(reader: FrameReader): Promise<SseEvent | undefined> {
  for (;;) {
    const event = await nextSse(reader);
    if (event?.comment !== "heartbeat") return event;
  }
}

/** The next NDJSON line that is not a heartbeat (empty), parsed. */
async function nextNdjson(reader: FrameReader): Promise<unknown> {
  for (;;) {
    const line = await reader.next();
    if (line === undefined) return undefined;
    if (line !== "") return JSON.parse(line);
  }
}

function watch(path: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${baseUrl}/workflows/v1/events/${path}`, { headers, signal: signal ?? null });
}

const SSE = { accept: "text/event-stream" };

function events(runId: string, ids: readonly number[]): Event[] {
  return ids.map((eventId) => ({ eventId: BigInt(eventId), runId, name: `event ${eventId}` }));
}

describe("SSE", () => {
  it("streams each message with an id naming its run, then ends", async () => {
    const id = script("sse-three", async function* () {
      yield* events("run-a", [1, 2, 3]);
    });
    const res = await watch(id, SSE);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const reader = new FrameReader(res, "\n\n");
    const received: SseEvent[] = [];
    for (let event = await nextSseEvent(reader); event !== undefined; event = await nextSseEvent(reader)) received.push(event);
    expect(received.map((e) => e.id)).toEqual(["run-a/1", "run-a/2", "run-a/3"]);
    expect(received.every((e) => e.event === undefined)).toBe(true);
    // Proto field names, every field present (as unary REST answers), int64 as a string.
    expect(received[0]!.data).toEqual({ event_id: "1", run_id: "run-a", type: "WORKFLOW_EVENT_TYPE_UNSPECIFIED", name: "event 1", attempt: 0, new_run_id: "" });
  });

  it("gives an id without a run when the message has no run id", async () => {
    const id = script("sse-no-run", async function* () {
      yield { eventId: 7n };
    });
    const reader = new FrameReader(await watch(id, SSE), "\n\n");
    expect((await nextSseEvent(reader))?.id).toBe("7");
    expect(await nextSseEvent(reader)).toBeUndefined();
  });

  it("writes each message when it is produced, and heartbeats while idle", async () => {
    const next = gate();
    const id = script("sse-idle", async function* (_req, ctx) {
      yield* events("run-a", [1]);
      await next.until(ctx.signal);
      yield* events("run-a", [2]);
    });
    const reader = new FrameReader(await watch(id, SSE), "\n\n");
    expect((await nextSse(reader))?.id).toBe("run-a/1");
    // The handler is still waiting: what arrives now is heartbeats, a comment EventSource ignores.
    expect(await reader.next()).toBe(": heartbeat");
    expect(await reader.next()).toBe(": heartbeat");
    next.open();
    expect((await nextSseEvent(reader))?.id).toBe("run-a/2");
    expect(await nextSseEvent(reader)).toBeUndefined();
  });

  it("commits the stream with heartbeats when the first message takes a while", async () => {
    const first = gate();
    const id = script("sse-slow-start", async function* (_req, ctx) {
      await first.until(ctx.signal);
      yield* events("run-a", [1]);
      throw new ConnectError("lost the history", Code.Unavailable);
    });
    const res = await watch(id, SSE);
    // The 200 and a heartbeat before any message: proxies see traffic, the client sees the stream open.
    expect(res.status).toBe(200);
    const reader = new FrameReader(res, "\n\n");
    expect(await reader.next()).toBe(": heartbeat");
    first.open();
    expect((await nextSseEvent(reader))?.id).toBe("run-a/1");
    expect(await nextSseEvent(reader)).toEqual({ event: "error", data: { code: "unavailable", message: "lost the history" } });
    expect(await reader.next()).toBeUndefined();
  });

  it("answers a failure before the first message as unary REST does", async () => {
    // A stream that fails before its first message, after a moment (not at once, unlike an unknown id).
    // eslint-disable-next-line require-yield
    const id = script("sse-fail-first", async function* () {
      await sleep(1);
      throw new ConnectError("no run run-x", Code.NotFound);
    });
    const res = await watch(id, SSE);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ code: "not_found", message: "no run run-x" });
  });

  it("ends a stream that fails after messages with an error event", async () => {
    const id = script("sse-fail-later", async function* () {
      yield* events("run-a", [1, 2]);
      throw new ConnectError("too many watchers", Code.ResourceExhausted);
    });
    const res = await watch(id, SSE);
    expect(res.status).toBe(200);
    const reader = new FrameReader(res, "\n\n");
    expect((await nextSseEvent(reader))?.id).toBe("run-a/1");
    expect((await nextSseEvent(reader))?.id).toBe("run-a/2");
    expect(await nextSseEvent(reader)).toEqual({ event: "error", data: { code: "resource_exhausted", message: "too many watchers" } });
    expect(await reader.next()).toBeUndefined();
  });

  it("validates the request as every protocol does (400 before any message)", async () => {
    const res = await watch("sse-never-called?after_event_id=-1", SSE);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(/after_event_id/);
    expect(calls.has("sse-never-called")).toBe(false);
  });
});

describe("Last-Event-ID", () => {
  const echo = (name: string) =>
    script(name, async function* (req) {
      yield { eventId: req.afterEventId + 1n, runId: req.runId };
    });

  it("resumes after <run_id>/<n>: after_event_id and run_id, over the path's run", async () => {
    const id = echo("resume-run");
    const reader = new FrameReader(await watch(`${id}/path-run`, { ...SSE, "last-event-id": "run-b/41" }), "\n\n");
    expect((await nextSseEvent(reader))?.id).toBe("run-b/42");
    expect(calls.get(id)?.request).toMatchObject({ workflowId: id, runId: "run-b", afterEventId: 41n });
  });

  it("resumes after <n>, keeping the path's run", async () => {
    const id = echo("resume-number");
    const reader = new FrameReader(await watch(`${id}/path-run`, { ...SSE, "last-event-id": "7" }), "\n\n");
    expect((await nextSseEvent(reader))?.id).toBe("path-run/8");
    expect(calls.get(id)?.request).toMatchObject({ runId: "path-run", afterEventId: 7n });
  });

  it("works on NDJSON too, over the query's after_event_id", async () => {
    const id = echo("resume-ndjson");
    const reader = new FrameReader(await watch(`${id}?after_event_id=3`, { "last-event-id": "run-c/9" }), "\n");
    expect(await nextNdjson(reader)).toMatchObject({ event_id: "10", run_id: "run-c" });
  });

  it("refuses a malformed one, naming the header", async () => {
    for (const bad of ["abc", "run-b/", "/5", "5x", "-1", "99999999999999999999"]) {
      const res = await watch(`resume-bad/run`, { ...SSE, "last-event-id": bad });
      expect(res.status, bad).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code, bad).toBe("invalid_argument");
      expect(body.message, bad).toMatch(/Last-Event-ID/);
    }
    expect(calls.has("resume-bad")).toBe(false);
  });
});

describe("NDJSON", () => {
  it("is the default: one message per line, heartbeats as empty lines, and an error line at the end", async () => {
    const next = gate();
    const id = script("ndjson-default", async function* (_req, ctx) {
      yield* events("run-a", [1]);
      await next.until(ctx.signal);
      yield* events("run-a", [2]);
      throw new ConnectError("history is gone", Code.DataLoss);
    });
    const res = await watch(id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const reader = new FrameReader(res, "\n");
    expect(await reader.next()).toBe(JSON.stringify(
      { event_id: "1", run_id: "run-a", type: "WORKFLOW_EVENT_TYPE_UNSPECIFIED", name: "event 1", attempt: 0, new_run_id: "" },
    ));
    expect(await reader.next()).toBe("");
    expect(await reader.next()).toBe("");
    next.open();
    expect(await nextNdjson(reader)).toMatchObject({ event_id: "2" });
    expect(await nextNdjson(reader)).toEqual({ error: { code: "data_loss", message: "history is gone" } });
    expect(await reader.next()).toBeUndefined();
  });

  it("answers a failure before the first message with the HTTP status", async () => {
    const res = await watch("ndjson-unknown-workflow", { accept: "application/x-ndjson" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "not_found", message: "workflow ndjson-unknown-workflow not found" });
  });

  it("reaches curl -N line by line, while the stream is still open", async () => {
    const next = gate();
    const id = script("ndjson-curl", async function* (_req, ctx) {
      yield* events("run-a", [1]);
      await next.until(ctx.signal);
      yield* events("run-a", [2, 3]);
    });
    const curl = runCurl(["-H", "Accept: application/x-ndjson", `${baseUrl}/workflows/v1/events/${id}/run-a`]);
    const eventIds = () => curl.lines().map((line) => (JSON.parse(line) as { event_id: string }).event_id);
    try {
      await curl.untilLines(1);
      // The first line arrived while the handler has not produced the second yet.
      expect(eventIds()).toEqual(["1"]);
      expect(curl.running()).toBe(true);
      next.open();
      expect(await curl.exited, curl.stderr()).toBe(0);
      expect(eventIds()).toEqual(["1", "2", "3"]);
    } finally {
      curl.kill();
    }
  });
});

describe("over HTTP/2 (h2c)", () => {
  it("streams SSE to curl --http2-prior-knowledge as it is produced", async () => {
    const next = gate();
    const id = script("sse-h2c", async function* (_req, ctx) {
      yield* events("run-h2", [1]);
      await next.until(ctx.signal);
      yield* events("run-h2", [2]);
    });
    const curl = runCurl(["--http2-prior-knowledge", "-i", "-H", "Accept: text/event-stream", `${baseUrl}/workflows/v1/events/${id}`]);
    try {
      await curl.untilLines((lines) => lines.includes("id: run-h2/1"));
      expect(curl.lines()[0]).toMatch(/^HTTP\/2 200/);
      expect(curl.lines()).toContain("content-type: text/event-stream; charset=utf-8");
      // Idle: heartbeats keep coming on the HTTP/2 stream.
      await curl.untilLines((lines) => lines.includes(": heartbeat"));
      next.open();
      expect(await curl.exited, curl.stderr()).toBe(0);
      expect(curl.lines().filter((line) => line.startsWith("id: "))).toEqual(["id: run-h2/1", "id: run-h2/2"]);
    } finally {
      curl.kill();
    }
  });
});

/** curl -sS -N (no output buffering) as a child process, its output read as it comes. */
function runCurl(args: readonly string[]) {
  const curl = spawn("curl", ["-sS", "-N", ...args]);
  let out = "";
  let err = "";
  curl.stdout.setEncoding("utf8").on("data", (text: string) => (out += text));
  curl.stderr.setEncoding("utf8").on("data", (text: string) => (err += text));
  const lines = () => out.split(/\r?\n/).filter((line) => line !== "");
  return {
    exited: new Promise<number | null>((resolve) => curl.once("close", resolve)),
    lines,
    stderr: () => err,
    running: () => curl.exitCode === null,
    /** Waits until the output has this many non-empty lines, or until `done` says so. */
    async untilLines(done: number | ((lines: string[]) => boolean)): Promise<void> {
      const test = typeof done === "number" ? (l: string[]) => l.length >= done : done;
      const deadline = Date.now() + READ_TIMEOUT_MS;
      while (!test(lines())) {
        if (Date.now() > deadline) throw new Error(`curl: not there within ${READ_TIMEOUT_MS} ms; have ${JSON.stringify(out)} ${err}`);
        await sleep(10);
      }
    },
    kill() {
      if (curl.exitCode === null) curl.kill();
    },
  };
}

describe("the call's lifetime", () => {
  it("aborts the handler's signal when the client goes away", async () => {
    const id = script("abort-client", async function* (_req, ctx) {
      yield* events("run-a", [1]);
      await untilAborted(ctx.signal);
    });
    const client = new AbortController();
    const reader = new FrameReader(await watch(id, SSE, client.signal), "\n\n");
    expect((await nextSseEvent(reader))?.id).toBe("run-a/1");
    client.abort();
    const reason = await Promise.race([aborted(calls.get(id)!.signal), sleep(READ_TIMEOUT_MS).then(() => "not aborted")]);
    expect(reason).toBeInstanceOf(ConnectError);
    expect((reason as ConnectError).code).toBe(Code.Canceled);
  });

  it("answers HEAD with the status and headers a GET would get, and stops the call", async () => {
    const id = script("head-open", async function* (_req, ctx) {
      yield* events("run-a", [1]);
      await untilAborted(ctx.signal);
    });
    const res = await fetch(`${baseUrl}/workflows/v1/events/${id}`, { method: "HEAD", headers: SSE });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await res.text()).toBe("");
    await aborted(calls.get(id)!.signal);
    const missing = await fetch(`${baseUrl}/workflows/v1/events/head-missing`, { method: "HEAD" });
    expect(missing.status).toBe(404);
  });

  it("answers 405 with Allow for a method the path does not take", async () => {
    const res = await fetch(`${baseUrl}/workflows/v1/events/anything`, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect(await res.json()).toMatchObject({ code: "unimplemented" });
  });

  it("still serves the stream to a Connect client on the same port", async () => {
    const id = script("connect-client", async function* () {
      yield* events("run-a", [1, 2]);
      throw new ConnectError("gone", Code.NotFound);
    });
    const client = createClient(WorkflowService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    const received: bigint[] = [];
    const failure = await (async () => {
      try {
        for await (const event of client.watchWorkflow({ workflowId: id })) received.push(event.eventId);
      } catch (err) {
        return ConnectError.from(err);
      }
      return undefined;
    })();
    expect(received).toEqual([1n, 2n]);
    expect(failure?.code).toBe(Code.NotFound);
  });
});
