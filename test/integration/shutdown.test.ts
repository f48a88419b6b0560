// Graceful shutdown, as a replica behind a load balancer needs it: on close (SIGTERM), readiness turns false
// and new calls are refused with Unavailable at once, on every protocol; open watches end at once naming the
// event to resume after; calls in flight get the grace period; calls still waiting at its end answer
// Unavailable naming their run, which keeps running. Then, a Flowgate process stopped by SIGTERM in the
// middle of a load: every call either completed or failed with Unavailable, and nothing it acknowledged is
// lost.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WorkflowStatus } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import type { WatchWorkflowResponse } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { TEST_TASK_QUEUE } from "../helpers/constants.js";
import { cleanEnv, startFlowgate, stopAllFlowgates } from "../helpers/flowgate-process.js";
import { callError, connectClient, isRestError, PROTOCOLS, workflowClient, type ProtocolName } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { freePort } from "../helpers/tools.js";

const json = (value: JsonValue) => fromJson(ValueSchema, value);

let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-shutdown-"));
});
afterAll(async () => {
  await stopAllFlowgates();
  await server?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Ends a run a test left going. */
async function terminate(workflowId: string): Promise<void> {
  await workflowClient("connect-json", server.baseUrl)
    .stopWorkflow({ workflowId, terminate: true })
    .catch(() => undefined);
}

describe("closing the app", () => {
  it("refuses new calls and ends watches at once, lets calls in flight finish, and names the runs of the waits it ends", async () => {
    const GRACE_MS = 2000;
    const leaving = await startTestServer({ config: { shutdownGraceMs: GRACE_MS } });
    const sleeper = await workflowClient("connect-json", server.baseUrl).startWorkflow({ workflowType: "sleep", input: json({ seconds: 60 }) });
    const report = await workflowClient("connect-json", server.baseUrl).startWorkflow({ workflowType: "report", input: json({ steps: 20, step_seconds: 1 }) });
    const runId = `shutdown-run-${randomUUID()}`;
    try {
      // In flight when the close begins: two waits longer than the grace, one call shorter, one watch.
      const running = connectClient("grpc", leaving.baseUrl).runWorkflow({ workflowType: "sleep", workflowId: runId, input: json({ seconds: 60 }) });
      const waiting = workflowClient("rest", leaving.baseUrl).getWorkflowResult({ workflowId: sleeper.workflowId, wait: { seconds: 60n } });
      const short = workflowClient("connect-json", leaving.baseUrl).runWorkflow({ workflowType: "sleep", input: json({ seconds: 1 }) });
      const seen: WatchWorkflowResponse[] = [];
      const watching = (async () => {
        for await (const event of connectClient("connect-json", leaving.baseUrl).watchWorkflow({ workflowId: report.workflowId })) seen.push(event);
      })();
      // Its failure is read below, after the refusals: held here so it is never an unhandled rejection.
      const watched = callError(watching);
      await delay(500);
      expect(seen.length, "the watch has sent its first events").toBeGreaterThan(0);

      const began = Date.now();
      const closing = leaving.close();
      const at = (promise: Promise<unknown>) => promise.then(() => Date.now() - began, () => Date.now() - began);

      // At once: not ready, new calls refused on every protocol (the listener still answers them).
      const ready = await fetch(`${leaving.baseUrl}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: "unavailable", server: "shutting down" });
      expect((await fetch(`${leaving.baseUrl}/health/live`)).status).toBe(200);
      for (const protocol of PROTOCOLS) {
        const err = await callError(workflowClient(protocol, leaving.baseUrl).startWorkflow({ workflowType: "greet", input: json({ name: "late" }) }));
        expect(err.code, `${protocol}: ${err.rawMessage}`).toBe(Code.Unavailable);
        expect(err.rawMessage).toMatch(/^the server is shutting down: call again, another replica will answer$/);
        if (isRestError(err)) expect(err.status).toBe(503);
      }

      // The watch ended at once, saying where to resume.
      const watchErr = await watched;
      const watchEnded = Date.now() - began;
      expect(watchErr.code, watchErr.rawMessage).toBe(Code.Unavailable);
      const last = seen.at(-1)!;
      expect(watchErr.rawMessage).toContain(`resume after event ${last.runId}/${last.eventId}`);
      expect(watchErr.metadata.get("flowgate-resume-after")).toBe(`${last.runId}/${last.eventId}`);
      expect(watchEnded).toBeLessThan(1000);

      // The short call finished within the grace, as if nothing happened.
      const finished = await short;
      expect(finished.status).toBe(WorkflowStatus.COMPLETED);

      // The waits were ended at the grace, naming their runs, which keep running.
      const [runErr, waitErr] = await Promise.all([callError(running), callError(waiting)]);
      expect(runErr.code, runErr.rawMessage).toBe(Code.Unavailable);
      expect(runErr.rawMessage).toMatch(new RegExp(`^the server is shutting down; workflow "${runId}" run "[\\w-]+" keeps running: get its outcome with GetWorkflowResult`));
      expect(waitErr.code, waitErr.rawMessage).toBe(Code.Unavailable);
      expect(waitErr.rawMessage).toContain(`workflow "${sleeper.workflowId}" run "${sleeper.runId}" keeps running`);
      expect(isRestError(waitErr) && waitErr.status).toBe(503);
      expect(await at(running)).toBeGreaterThanOrEqual(GRACE_MS - 100);
      await closing;
      expect(Date.now() - began).toBeLessThan(GRACE_MS + 3000);

      for (const workflowId of [runId, sleeper.workflowId]) {
        const status = await workflowClient("connect-json", server.baseUrl).getWorkflowStatus({ workflowId });
        expect(status.status, workflowId).toBe(WorkflowStatus.RUNNING);
      }
    } finally {
      await Promise.all([runId, sleeper.workflowId, report.workflowId].map(terminate));
    }
  });

  it("closes at once when nothing is in flight", async () => {
    const idle = await startTestServer({ config: { shutdownGraceMs: 30_000 } });
    await workflowClient("grpc", idle.baseUrl).listWorkflowTypes({});
    const began = Date.now();
    await idle.close();
    expect(Date.now() - began).toBeLessThan(2000);
  });
});

describe("closing with clients that stop reading", () => {
  it.each([
    { protocol: "grpc", leaves: "stops reading" },
    { protocol: "connect-json", leaves: "stops reading" },
    { protocol: "grpc", leaves: "breaks out of its loop" },
    { protocol: "connect-json", leaves: "breaks out of its loop" },
  ] as const)("ends when a $protocol client watching a run $leaves", async ({ protocol, leaves }) => {
    const leaving = await startTestServer({ config: { shutdownGraceMs: 1000 } });
    const report = await workflowClient("connect-json", server.baseUrl).startWorkflow({ workflowType: "report", input: json({ steps: 20, step_seconds: 1 }) });
    try {
      // After one event the client either keeps the stream and reads no more, or leaves its for-await loop
      // (which returns the iterator); either way it keeps its connection.
      const watch = connectClient(protocol, leaving.baseUrl).watchWorkflow({ workflowId: report.workflowId });
      if (leaves === "stops reading") {
        await watch[Symbol.asyncIterator]().next();
      } else {
        for await (const event of watch) if (event !== undefined) break;
      }
      const began = Date.now();
      await leaving.close();
      // The grace, the second the drain gives answers to go out, and the 2 s a connection that is not read
      // gets before it is destroyed; with room for a busy machine.
      expect(Date.now() - began).toBeLessThan(1000 + 1000 + 2000 + 2000);
    } finally {
      await terminate(report.workflowId);
    }
  });
});

describe("SIGTERM in the middle of a load", () => {
  it("completes or refuses every call with Unavailable, exits 0, and loses nothing it acknowledged", async () => {
    const flowgate = await startFlowgate(
      cleanEnv({
        FLOWGATE_TEMPORAL_ADDRESS: inject("temporalAddress"),
        FLOWGATE_PORT: String(await freePort()),
        FLOWGATE_DATA_DIR: path.join(dir, "load"),
        FLOWGATE_SAMPLES: "true",
        FLOWGATE_START_WORKER: "false",
        FLOWGATE_TASK_QUEUE: TEST_TASK_QUEUE,
        FLOWGATE_SHUTDOWN_GRACE: "2s",
      }),
    );
    const acknowledged: Array<{ workflowId: string; runId: string }> = [];
    const counts = { completed: 0, completedElsewhere: 0, unavailable: 0, refusedStream: 0, refusedConnection: 0 };
    const other: string[] = [];
    let exited = false;
    void flowgate.exited.then(() => (exited = true));

    // 12 callers on every protocol, each starting greet runs one after another, as a load balancer's clients
    // do: a call refused by the leaving replica (Unavailable, or a connection or HTTP/2 stream it refused,
    // which it never processed) moves the caller to the other replica, as the load balancer would.
    const protocols: ProtocolName[] = ["grpc", "grpc-web", "connect-json", "connect-binary", "rest"];
    const caller = async (i: number) => {
      const protocol = protocols[i % protocols.length]!;
      let client = workflowClient(protocol, flowgate.baseUrl);
      let moved = false;
      while (!exited) {
        const workflowId = `sigterm-${randomUUID()}`;
        try {
          const { runId } = await client.startWorkflow({ workflowType: "greet", workflowId, requestId: randomUUID(), input: json({ name: "load" }) });
          acknowledged.push({ workflowId, runId });
          if (moved) counts.completedElsewhere += 1;
          else counts.completed += 1;
          continue;
        } catch (err) {
          const connectErr = ConnectError.from(err);
          const text = `${connectErr.rawMessage} ${String((err as Error).cause)}`;
          if (connectErr.code === Code.Unavailable && !/ECONNREFUSED/.test(text)) counts.unavailable += 1;
          // RFC 9113 section 8.7: a stream refused with REFUSED_STREAM was not processed. connect-node reports
          // Node's form of it as internal, not unavailable as it does the reset code.
          else if (/REFUSED_STREAM/.test(text)) counts.refusedStream += 1;
          else if (/fetch failed|ECONNREFUSED/.test(text)) counts.refusedConnection += 1;
          else other.push(`${protocol}${moved ? " (other replica)" : ""}: ${Code[connectErr.code]} ${connectErr.rawMessage}`);
        }
        if (!moved) client = workflowClient(protocol, server.baseUrl);
        moved = true;
      }
    };
    // Three waits that outlast the grace: answered Unavailable, naming their runs.
    const waits = (["grpc", "connect-json", "rest"] as const).map((protocol) =>
      callError(workflowClient(protocol, flowgate.baseUrl).runWorkflow({ workflowType: "sleep", workflowId: `sigterm-wait-${randomUUID()}`, input: json({ seconds: 60 }) })),
    );
    const callers = Array.from({ length: 12 }, (_, i) => caller(i));
    await delay(1500);
    const beforeSignal = counts.completed;
    flowgate.process.kill("SIGTERM");
    const code = await flowgate.exited;
    await Promise.all(callers);
    const waitErrs = await Promise.all(waits);

    const summary = JSON.stringify({ ...counts, beforeSignal, other: other.length });
    expect(code, summary).toBe(0);
    expect(other, summary).toEqual([]);
    expect(beforeSignal, summary).toBeGreaterThan(10);
    expect(counts.unavailable, summary).toBeGreaterThan(0);
    expect(counts.completedElsewhere, summary).toBeGreaterThan(0);
    for (const err of waitErrs) {
      expect(err.code, err.rawMessage).toBe(Code.Unavailable);
      expect(err.rawMessage).toMatch(/^the server is shutting down; workflow "sigterm-wait-[\w-]+" run "[\w-]+" keeps running/);
    }
    const logs = flowgate.output.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { msg: string; aborted?: number });
    expect(logs.find((l) => l.msg.startsWith("drained"))).toMatchObject({ aborted: 3 });

    // Every start that was acknowledged exists in Temporal.
    const check = workflowClient("connect-json", server.baseUrl);
    for (const { workflowId, runId } of acknowledged) {
      const status = await check.getWorkflowStatus({ workflowId, runId });
      expect(status.runId).toBe(runId);
    }
    await Promise.all(waitErrs.map((err) => terminate(/workflow "([^"]+)"/.exec(err.rawMessage)![1]!)));
  }, 60_000);
});
