// A request_id makes one run however its retries race, when the run they race with closes in between: with
// a slow link between Flowgate and Temporal (40 ms each way), a retry's look-up and its start are further
// apart than the whole life of a `greet` run, which the worker (on a fast link) completes in between. A
// check-then-start made a second run here every time; Temporal keying the start on the request_id makes one.
// Signal-with-start is tested the same way, its retries spread over two replicas: Temporal's
// SignalWithStartWorkflowExecution does not key a start on the request_id once that run has closed.
import { randomUUID } from "node:crypto";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { startSlowLink, type SlowLink } from "../helpers/slow-link.js";
import { runIdsOf } from "../helpers/temporal.js";

const json = (value: JsonValue) => fromJson(ValueSchema, value);

let link: SlowLink;
let server: TestServer;
let replica: TestServer;
beforeAll(async () => {
  link = await startSlowLink(inject("temporalAddress"), 40);
  server = await startTestServer({ temporalAddress: link.address });
  replica = await startTestServer({ temporalAddress: link.address });
});
afterAll(async () => {
  await server?.close();
  await replica?.close();
  await link?.close();
});

describe("request_id over a slow link to Temporal", () => {
  const client = () => workflowClient("connect-json", server.baseUrl);

  it("makes one run from retries that arrive before, during and after the run", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const workflowId = `slow-link-${randomUUID()}`;
      const starts = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, i * 30));
          return client().startWorkflow({ workflowType: "greet", workflowId, input: json({ name: "A" }), requestId: "r-1" });
        }),
      );
      const runIds = new Set(starts.map((s) => s.runId));
      await client().getWorkflowResult({ workflowId, wait: durationFromMs(20_000) });
      expect(await runIdsOf(workflowId), `trial ${trial}: runs in Temporal`).toEqual([...runIds]);
      expect(runIds.size, `trial ${trial}: every caller gets the one run`).toBe(1);
    }
  });

  it("makes one run from signal-with-start retries on two replicas, the run closing on their first signal", async () => {
    // `approval` completes on its "decision" signal: the run is closed well before the later retries arrive.
    for (let trial = 0; trial < 3; trial++) {
      const workflowId = `slow-link-sws-${randomUUID()}`;
      const calls = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, i * 30));
          return workflowClient("connect-json", (i % 2 === 0 ? server : replica).baseUrl).signalWithStart({
            workflowType: "approval",
            workflowId,
            input: json({}),
            requestId: "r-1",
            signalName: "decision",
            signalInput: json({ approved: true, comment: "once" }),
          });
        }),
      );
      const runIds = new Set(calls.map((c) => c.runId));
      expect(new Set(await runIdsOf(workflowId)), `trial ${trial}: runs in Temporal`).toEqual(runIds);
      expect(runIds.size, `trial ${trial}: every caller gets the one run`).toBe(1);
      expect(calls.filter((c) => c.started), `trial ${trial}: one caller started it`).toHaveLength(1);
    }
  });

  it("signal-with-start with a new request_id starts a new run after the closed one, and its retries find it", async () => {
    const workflowId = `slow-link-sws-next-${randomUUID()}`;
    const signalWithStart = (requestId: string, target: TestServer) =>
      workflowClient("connect-json", target.baseUrl).signalWithStart({
        workflowType: "approval",
        workflowId,
        input: json({}),
        requestId,
        signalName: "decision",
        signalInput: json({ approved: true, comment: requestId }),
      });
    const first = await signalWithStart("r-1", server);
    await client().getWorkflowResult({ workflowId, runId: first.runId, wait: durationFromMs(20_000) });
    const second = await signalWithStart("r-2", replica);
    expect(second.started).toBe(true);
    expect(second.runId).not.toBe(first.runId);
    await client().getWorkflowResult({ workflowId, runId: second.runId, wait: durationFromMs(20_000) });
    // Late retries of both requests, on either replica, answer with their own runs and start nothing.
    const retries = await Promise.all([signalWithStart("r-1", replica), signalWithStart("r-2", server), signalWithStart("r-2", replica)]);
    expect(retries.map((r) => [r.runId, r.started])).toEqual([
      [first.runId, false],
      [second.runId, false],
      [second.runId, false],
    ]);
    expect(new Set(await runIdsOf(workflowId))).toEqual(new Set([first.runId, second.runId]));
  });
});
