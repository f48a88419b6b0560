// Temporal dies under a start load and comes back: every start Flowgate acknowledged exists afterwards,
// every failure is Unavailable or DeadlineExceeded and arrives within its deadline (+10%), and Flowgate
// serves again within 5 s of Temporal answering, without a restart of its own.
import { randomUUID } from "node:crypto";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { Client, Connection } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { ownTemporal, type OwnTemporal } from "../helpers/own-temporal.js";
import { workflowClient, type ProtocolName } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const DEADLINE_MS = 2000;
/** Callers, spread over the protocols. */
const PROTOCOLS: readonly ProtocolName[] = ["grpc", "connect-json", "rest", "grpc", "connect-json", "rest", "grpc-web", "connect-binary"];
/** Long enough for grpc-js's default reconnect backoff (1 s, growing 1.6× to 120 s) to reach about 25 s. */
const OUTAGE_MS = 45_000;

let temporal: OwnTemporal;
let server: TestServer;
beforeAll(async () => {
  temporal = await ownTemporal();
  await temporal.start();
  server = await startTestServer({ temporalAddress: temporal.address });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await temporal?.dispose();
});

interface Outcome {
  readonly protocol: ProtocolName;
  readonly at: number;
  readonly ms: number;
  readonly workflowId: string;
  readonly runId?: string;
  readonly code?: Code;
  readonly message?: string;
}

describe("Temporal killed and restarted under a start load", () => {
  it("loses no acknowledged start, fails within deadlines, and recovers within 5 s", { timeout: 180_000 }, async () => {
    const outcomes: Outcome[] = [];
    let running = true;
    const callers = PROTOCOLS.map(async (protocol) => {
      const client = workflowClient(protocol, server.baseUrl);
      while (running) {
        const workflowId = `outage-${randomUUID()}`;
        const t0 = performance.now();
        try {
          const res = await client.startWorkflow(
            { workflowType: "greet", workflowId, requestId: workflowId, input: fromJson(ValueSchema, { name: "outage" }) },
            { timeoutMs: DEADLINE_MS },
          );
          outcomes.push({ protocol, at: t0, ms: performance.now() - t0, workflowId, runId: res.runId });
        } catch (err) {
          const e = ConnectError.from(err);
          outcomes.push({ protocol, at: t0, ms: performance.now() - t0, workflowId, code: e.code, message: e.rawMessage });
          // A client backing off a little, as any would.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });

    await new Promise((resolve) => setTimeout(resolve, 3000));
    const killedAt = performance.now();
    await temporal.kill();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await temporal.start(); // returns once Temporal answers a fresh connection
    const upAt = performance.now();
    // Keep loading until Flowgate has answered a start after Temporal came back (or 15 s passed).
    const recovered = () => outcomes.find((o) => o.runId !== undefined && o.at >= upAt);
    while (!recovered() && performance.now() - upAt < 15_000) await new Promise((resolve) => setTimeout(resolve, 50));
    running = false;
    await Promise.all(callers);

    const acked = outcomes.filter((o) => o.runId !== undefined);
    const failed = outcomes.filter((o) => o.code !== undefined);
    const duringOutage = failed.filter((o) => o.at >= killedAt);
    expect(acked.filter((o) => o.at < killedAt).length, "starts before the kill").toBeGreaterThan(20);
    expect(duringOutage.length, "calls refused while Temporal was down").toBeGreaterThan(0);
    // Every failure says what happened, in a code a client can act on.
    const codes = new Set(failed.map((o) => Code[o.code!]));
    expect([...codes].filter((c) => c !== "Unavailable" && c !== "DeadlineExceeded"), JSON.stringify(failed.slice(0, 3))).toEqual([]);
    // The deadline holds while Temporal is down: no answer later than the deadline + 10%.
    const slowest = Math.max(...failed.map((o) => o.ms));
    const late = failed.filter((o) => o.ms > DEADLINE_MS * 1.1);
    expect(late, "calls refused later than the deadline + 10%").toEqual([]);
    // Flowgate answers again soon after Temporal does: no restart, no two-minute reconnect backoff.
    const first = recovered();
    expect(first, "a start succeeded after Temporal came back").toBeDefined();
    expect(first!.at + first!.ms - upAt, "ms from Temporal answering to Flowgate answering").toBeLessThanOrEqual(5000);

    // Every acknowledged start is in Temporal, with the run Flowgate reported.
    const connection = await Connection.connect({ address: temporal.address });
    try {
      const direct = new Client({ connection, namespace: TEST_NAMESPACE });
      for (const o of acked) {
        const description = await direct.workflow.getHandle(o.workflowId).describe();
        expect(description.runId, o.workflowId).toBe(o.runId);
      }
    } finally {
      await connection.close();
    }
    console.info(
      `outage: ${acked.length} acknowledged starts (all found), ${failed.length} refused (${[...codes].join(", ")}), ` +
        `slowest refusal ${Math.round(slowest)} ms, Flowgate answered ${Math.round(first!.at + first!.ms - upAt)} ms after Temporal`,
    );
  });
});
