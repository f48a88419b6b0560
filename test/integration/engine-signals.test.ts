// The Temporal SDK adds an abort listener to a call's signal for every gRPC call it makes and never removes
// it. A watched run's reader makes one long poll after another on one signal for as long as the run lasts;
// each poll must leave nothing behind on it, or a watch of a long run gathers listeners (and the calls they
// hold) without bound.
import { getEventListeners } from "node:events";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { WorkflowEngine } from "../../src/operations/index.js";
import { createTemporalClient, TemporalEngine, type TemporalClient } from "../../src/temporal/index.js";
import { TEST_NAMESPACE, TEST_TASK_QUEUE } from "../helpers/constants.js";

let temporal: TemporalClient;
let engine: WorkflowEngine;
beforeAll(() => {
  temporal = createTemporalClient({ address: inject("temporalAddress"), namespace: TEST_NAMESPACE });
  engine = new TemporalEngine(temporal);
});
afterAll(() => temporal?.close());

it("leaves no abort listener on a watch's signal, however many long polls the watch makes", async () => {
  const workflowId = `listeners-${randomUUID()}`;
  const handle = await temporal.client.workflow.start("report", {
    workflowId,
    taskQueue: TEST_TASK_QUEUE,
    args: [{ steps: 12, step_seconds: 0.2 }],
  });
  const controller = new AbortController();
  let events = 0;
  let most = 0;
  for await (const _event of engine.watchRun({ workflowId, runId: handle.firstExecutionRunId }, controller.signal)) {
    events += 1;
    most = Math.max(most, getEventListeners(controller.signal, "abort").length);
  }
  expect(events, "the run's events came in many polls").toBeGreaterThan(20);
  // One listener while a poll is under way (the engine's own), none once the watch has ended.
  expect(most).toBeLessThanOrEqual(2);
  expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
});
