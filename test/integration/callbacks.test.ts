// Completion callbacks, against the run's Temporal and a real HTTP receiver on loopback: a start that names
// a URL gets the run's outcome POSTed there once it closes (GetWorkflowResult's REST answer), retried with
// backoff on 5xx and network errors, recorded as a dead letter when every attempt failed, once per run
// however often the start is retried, and still delivered when the Flowgate that took the start is gone.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { Code } from "@connectrpc/connect";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/database/index.js";
import { callError, PROTOCOLS, workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { deleteRun } from "../helpers/temporal.js";

interface Received {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
}

const json = (value: JsonValue) => fromJson(ValueSchema, value);

/** Answers by path: /ok → 200, /flaky/<n>/… → 503 n times then 200, /down → 503, /refuse → 400, /moved → 302. */
let receiver: Server;
let origin: string;
const received: Received[] = [];
const hits = new Map<string, number>();

let database: Database;
let server: TestServer;
let off: TestServer;
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => {
      const path = req.url ?? "";
      received.push({ path, headers: req.headers, body: JSON.parse(text) as unknown });
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      const flaky = /^\/flaky\/(\d+)\//.exec(path);
      const status = path.startsWith("/ok")
        ? 200
        : flaky
          ? n > Number(flaky[1]) ? 200 : 503
          : path.startsWith("/refuse")
            ? 400
            : path.startsWith("/moved")
              ? 302
              : 503;
      res.writeHead(status, status === 302 ? { location: "http://example.com/" } : {}).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  database = await openDatabase({});
  [server, off] = await Promise.all([startTestServer({ database, callbacks: { allow: [origin] } }), startTestServer()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), off?.close()]);
  await database?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

const deliveriesTo = (path: string) => received.filter((r) => r.path === path);
async function deliveredTo(path: string, count = 1): Promise<Received[]> {
  await expect.poll(() => deliveriesTo(path).length, { timeout: 30_000, interval: 100 }).toBe(count);
  return deliveriesTo(path);
}
async function deadLetter(workflowId: string, timeout = 30_000) {
  let rows: Array<{ callback_id: string; url: string; body: unknown; last_error: string }> = [];
  await expect
    .poll(
      async () => {
        rows = await database.query("SELECT callback_id, url, body, last_error FROM flowgate_callback_dead_letters WHERE workflow_id = $1", [workflowId]);
        return rows.length;
      },
      { timeout, interval: 200 },
    )
    .toBe(1);
  return rows[0]!;
}

describe.each(PROTOCOLS)("StartWorkflow with a callback over %s", (protocol) => {
  it("POSTs the run's outcome, as GetWorkflowResult answers it on REST, once the run closes", async () => {
    const path = `/ok/${randomUUID()}`;
    const run = await workflowClient(protocol, server.baseUrl).startWorkflow({
      workflowType: "greet",
      input: json({ name: "Ada" }),
      callback: { url: `${origin}${path}` },
    });
    const [delivery] = await deliveredTo(path);
    const rest = await fetch(`${server.baseUrl}/workflows/v1/result/${run.workflowId}/${run.runId}`).then((r) => r.json());
    expect(delivery!.body).toEqual(rest);
    expect(delivery!.body).toEqual({ workflow_id: run.workflowId, run_id: run.runId, status: "WORKFLOW_STATUS_COMPLETED", result: { greeting: "Hello, Ada!" } });
    expect(delivery!.headers).toMatchObject({
      "content-type": "application/json",
      "idempotency-key": expect.stringMatching(new RegExp(`^flowgate-callback:${run.workflowId}:${run.runId}:[0-9a-f]{16}$`)),
    });
  });
});

describe("completion callbacks", () => {
  const client = () => workflowClient("connect-json", server.baseUrl);

  it("reports a failed run with its failure, and follows continue-as-new to the last run", async () => {
    const failedPath = `/ok/${randomUUID()}`;
    const failed = await client().startWorkflow({ workflowType: "fail", input: json({ message: "out of tea" }), callback: { url: `${origin}${failedPath}` } });
    expect((await deliveredTo(failedPath))[0]!.body).toMatchObject({
      workflow_id: failed.workflowId,
      status: "WORKFLOW_STATUS_FAILED",
      failure: { message: "out of tea" },
    });

    const chainPath = `/ok/${randomUUID()}`;
    const chain = await client().startWorkflow({ workflowType: "chain", input: json({ steps: 2 }), callback: { url: `${origin}${chainPath}` } });
    const body = (await deliveredTo(chainPath))[0]!.body as { run_id: string; status: string };
    expect(body.status).toBe("WORKFLOW_STATUS_COMPLETED");
    expect(body.run_id).not.toBe(chain.runId);
  });

  it("retries a receiver that fails, with the same Idempotency-Key, until it takes the outcome", async () => {
    const path = `/flaky/2/${randomUUID()}`;
    await client().startWorkflow({ workflowType: "greet", input: json({ name: "Bo" }), callback: { url: `${origin}${path}` } });
    const deliveries = await deliveredTo(path, 3);
    expect(new Set(deliveries.map((d) => d.headers["idempotency-key"])).size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(deliveriesTo(path)).toHaveLength(3); // taken: no more attempts
  });

  it("records a dead letter after the last attempt, with what was to be sent and why it was not", async () => {
    const path = `/down/${randomUUID()}`;
    const run = await client().startWorkflow({ workflowType: "greet", input: json({ name: "Cy" }), callback: { url: `${origin}${path}` } });
    const letter = await deadLetter(run.workflowId);
    expect(deliveriesTo(path)).toHaveLength(3); // the test server's attempts
    expect(letter).toEqual({
      callback_id: expect.stringMatching(new RegExp(`^flowgate-callback:${run.workflowId}:${run.runId}:[0-9a-f]{16}$`)),
      url: `${origin}${path}`,
      body: { workflow_id: run.workflowId, run_id: run.runId, status: "WORKFLOW_STATUS_COMPLETED", result: { greeting: "Hello, Cy!" } },
      last_error: `POST ${origin}${path}: HTTP 503`,
    });
  });

  it("does not retry a receiver that refuses (4xx) or redirects, and records the dead letter at once", async () => {
    for (const [prefix, status] of [
      ["/refuse", 400],
      ["/moved", 302],
    ] as const) {
      const path = `${prefix}/${randomUUID()}`;
      const run = await client().startWorkflow({ workflowType: "greet", input: json({ name: "Di" }), callback: { url: `${origin}${path}` } });
      expect((await deadLetter(run.workflowId)).last_error).toBe(`POST ${origin}${path}: HTTP ${status}, not retried`);
      expect(deliveriesTo(path)).toHaveLength(1);
    }
  });

  it("delivers once for a start retried with the same request_id", async () => {
    const path = `/ok/${randomUUID()}`;
    const start = () =>
      client().startWorkflow({ workflowType: "greet", input: json({ name: "Ed" }), requestId: `req-${path}`, callback: { url: `${origin}${path}` } });
    const runs = await Promise.all([start(), start(), start()]);
    expect(new Set(runs.map((r) => r.runId)).size).toBe(1);
    await deliveredTo(path);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(deliveriesTo(path)).toHaveLength(1);
  });

  it("delivers to each URL when starts that find the same run name different ones", async () => {
    const [a, b] = [`/ok/${randomUUID()}`, `/ok/${randomUUID()}`];
    const requestId = `req-${randomUUID()}`;
    const start = (path: string) => client().startWorkflow({ workflowType: "greet", input: json({ name: "Hal" }), requestId, callback: { url: `${origin}${path}` } });
    const [first, second] = [await start(a), await start(b)];
    expect(second.runId).toBe(first.runId);
    const [toA, toB] = [(await deliveredTo(a))[0]!, (await deliveredTo(b))[0]!];
    expect(toA.body).toEqual(toB.body);
    expect(toA.headers["idempotency-key"]).not.toBe(toB.headers["idempotency-key"]);
  });

  it("records a dead letter without a body when the run is gone before it closes", async () => {
    const path = `/ok/${randomUUID()}`;
    const run = await client().startWorkflow({ workflowType: "sleep", input: json({ seconds: 60 }), callback: { url: `${origin}${path}` } });
    await deleteRun(run);
    // The delivery waits on the run a minute at a time: it finds the run gone at the latest then.
    const letter = await deadLetter(run.workflowId, 75_000);
    expect(letter.body).toBeNull();
    expect(letter.last_error).toMatch(/^the run is gone/);
    expect(deliveriesTo(path)).toEqual([]);
  }, 90_000);

  it("refuses a URL off the allowed origins, or not http(s), before starting anything", async () => {
    const workflowId = `refused-${randomUUID()}`;
    for (const [url, message] of [
      ["http://127.0.0.2:9/hook", "callback.url: http://127.0.0.2:9 is not an allowed callback origin (FLOWGATE_CALLBACK_ALLOW)"],
      [`${origin.replace("http:", "https:")}/hook`, `callback.url: ${origin.replace("http:", "https:")} is not an allowed callback origin (FLOWGATE_CALLBACK_ALLOW)`],
      [`http://user:pw@${new URL(origin).host}/hook`, "callback.url: must not carry credentials in the URL"],
    ] as const) {
      const err = await callError(client().startWorkflow({ workflowType: "greet", workflowId, input: json({ name: "Fay" }), callback: { url } }));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toBe(message);
    }
    const err = await callError(client().getWorkflowStatus({ workflowId }));
    expect(err.code).toBe(Code.NotFound);
  });

  it("answers FailedPrecondition on a server whose callbacks are off", async () => {
    const err = await callError(
      workflowClient("rest", off.baseUrl).startWorkflow({ workflowType: "greet", input: json({ name: "Gus" }), callback: { url: `${origin}/ok/x` } }),
    );
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toMatch(/^callback\.url: completion callbacks are off on this server \(set FLOWGATE_CALLBACK_ALLOW/);
  });

  it("delivers a run that closes after the Flowgate that started it is gone, through the next one", async () => {
    const taskQueue = `callbacks-${randomUUID()}`;
    const first = await startTestServer({ callbacks: { allow: [origin], taskQueue } });
    const path = `/ok/${randomUUID()}`;
    const run = await workflowClient("grpc", first.baseUrl).startWorkflow({ workflowType: "sleep", input: json({ seconds: 2 }), callback: { url: `${origin}${path}` } });
    await first.close();
    const second = await startTestServer({ callbacks: { allow: [origin], taskQueue } });
    try {
      expect((await deliveredTo(path))[0]!.body).toMatchObject({ run_id: run.runId, status: "WORKFLOW_STATUS_COMPLETED", result: { slept_seconds: 2 } });
    } finally {
      await second.close();
    }
  });
});
