// Events published while Temporal is down are refused with a code the sender retries on (Unavailable or
// DeadlineExceeded; 503/504 on REST, which Dapr redelivers), and delivering them again once Temporal is back
// starts each trigger's run exactly once; an event acknowledged before the outage is found, not repeated.
import { randomUUID } from "node:crypto";
import { Client, Connection } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { ownTemporal, type OwnTemporal } from "../helpers/own-temporal.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let temporal: OwnTemporal;
let server: TestServer;
beforeAll(async () => {
  temporal = await ownTemporal();
  await temporal.start();
  // No worker polls this queue: the runs stay open, which is all this test needs.
  server = await startTestServer({
    temporalAddress: temporal.address,
    triggers: [{ id: "outage", workflowType: "greet", taskQueue: `outage-${randomUUID()}`, filter: { types: ["test.outage"] } }],
  });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await temporal?.dispose();
});

interface Delivery {
  readonly status: number;
  readonly body: { code?: string; fired?: Array<{ run_id: string; already_started: boolean }> };
}

async function deliver(id: string): Promise<Delivery> {
  const res = await fetch(`${server.baseUrl}/events/v1/event/${id}`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-timeout-ms": "2000" },
    body: JSON.stringify({ id, type: "test.outage", data: { name: "Ada" } }),
  });
  return { status: res.status, body: (await res.json()) as Delivery["body"] };
}

async function runsOf(workflowId: string): Promise<string[]> {
  const connection = await Connection.connect({ address: temporal.address });
  try {
    const runs: string[] = [];
    for await (const run of new Client({ connection, namespace: TEST_NAMESPACE }).workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(run.runId);
    return runs;
  } finally {
    await connection.close();
  }
}

describe("events while Temporal is down", () => {
  it("are refused with a retryable status, and start one run each when delivered again", async () => {
    const before = `before-${randomUUID()}`;
    const during = `during-${randomUUID()}`;
    const first = await deliver(before);
    expect(first.status).toBe(200);
    const firstRun = first.body.fired![0]!.run_id;

    await temporal.kill();
    const refused = await Promise.all([deliver(during), deliver(before), deliver(during)]);
    for (const r of refused) {
      expect([503, 504], JSON.stringify(r.body)).toContain(r.status);
      expect(["unavailable", "deadline_exceeded"]).toContain(r.body.code);
    }

    await temporal.start();
    // The sender redelivers until it is acknowledged, as Dapr does.
    let delivered: Delivery | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      delivered = await deliver(during);
      if (delivered.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(delivered?.status, JSON.stringify(delivered?.body)).toBe(200);
    const again = await Promise.all([deliver(during), deliver(during), deliver(before)]);
    expect(again.map((d) => d.body.fired?.[0]?.already_started)).toEqual([true, true, true]);
    expect(again[2].body.fired![0]!.run_id).toBe(firstRun);
    expect(await runsOf(`outage:${during}`)).toEqual([delivered!.body.fired![0]!.run_id]);
    expect(await runsOf(`outage:${before}`)).toEqual([firstRun]);
  }, 120_000);
});
