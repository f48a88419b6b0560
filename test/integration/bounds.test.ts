// Every server-side time bound fires when it should while the garbage collector runs: RunWorkflow's own
// bound, GetWorkflowResult's wait, and a client's deadline. On Node 20 a bound built from
// `AbortSignal.any([..., AbortSignal.timeout(ms)])` can be collected before it fires (a 10 s bound answered
// at 25 s, a 100 s wait still open at 160 s); these calls force collections while they wait.
import { randomUUID } from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowStatus } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import { workflowClient, type ProtocolName } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const json = (value: JsonValue) => fromJson(ValueSchema, value);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { runTimeoutMs: 1500 } });
});
afterAll(async () => {
  await server?.close();
});

/** Runs `call` while forcing full collections (and making garbage) every 50 ms; returns how long it took. */
async function underGcPressure<T>(call: () => Promise<T>): Promise<{ ms: number; outcome: PromiseSettledResult<T> }> {
  const pressure = setInterval(() => {
    const garbage = Array.from({ length: 2000 }, (_, i) => ({ i, s: `x${i}` }));
    garbage.length = 0;
    gc();
  }, 50);
  const t0 = performance.now();
  try {
    const [outcome] = await Promise.allSettled([call()]);
    return { ms: performance.now() - t0, outcome };
  } finally {
    clearInterval(pressure);
  }
}

const stopAll = async (protocol: ProtocolName, workflowIds: string[]) => {
  for (const workflowId of workflowIds) {
    await workflowClient(protocol, server.baseUrl).stopWorkflow({ workflowId, terminate: true }).catch(() => undefined);
  }
};

describe.each(["connect-json", "grpc", "rest"] as const)("time bounds under GC pressure, over %s", (protocol) => {
  const client = () => workflowClient(protocol, server.baseUrl);

  it("ends RunWorkflow at the server's bound (1.5 s) when the call sets no deadline", async () => {
    const workflowId = `bound-run-${randomUUID()}`;
    const { ms, outcome } = await underGcPressure(() =>
      client().runWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 60 }) }),
    );
    expect(outcome.status).toBe("rejected");
    const err = ConnectError.from((outcome as PromiseRejectedResult).reason);
    expect(err.code, err.rawMessage).toBe(Code.DeadlineExceeded);
    expect(err.rawMessage).toMatch(/still running at the deadline/);
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThan(1500 + 1000);
    await stopAll(protocol, [workflowId]);
  });

  it("answers GetWorkflowResult with the run's status when its wait (1.5 s) runs out", async () => {
    const workflowId = `bound-wait-${randomUUID()}`;
    await client().startWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 60 }) });
    const { ms, outcome } = await underGcPressure(() => client().getWorkflowResult({ workflowId, wait: durationFromMs(1500) }));
    expect(outcome.status, String((outcome as PromiseRejectedResult).reason)).toBe("fulfilled");
    expect((outcome as PromiseFulfilledResult<{ status: WorkflowStatus }>).value.status).toBe(WorkflowStatus.RUNNING);
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThan(1500 + 1000);
    await stopAll(protocol, [workflowId]);
  });

  it("ends a call at its own deadline (1.5 s), shorter than the wait it asked for", async () => {
    const workflowId = `bound-deadline-${randomUUID()}`;
    await client().startWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 60 }) });
    const { ms, outcome } = await underGcPressure(() =>
      client().getWorkflowResult({ workflowId, wait: durationFromMs(60_000) }, { timeoutMs: 1500 }),
    );
    expect(outcome.status).toBe("rejected");
    const err = ConnectError.from((outcome as PromiseRejectedResult).reason);
    expect(err.code, err.rawMessage).toBe(Code.DeadlineExceeded);
    expect(ms).toBeLessThan(1500 + 1000);
    await stopAll(protocol, [workflowId]);
  });
});

describe("deadlines as clients send them", () => {
  const waitRunning = async (protocol: "grpc" | "connect-json", header: Record<string, string>) => {
    const workflowId = `bound-long-${randomUUID()}`;
    const client = workflowClient(protocol, server.baseUrl);
    await client.startWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 60 }) });
    const t0 = performance.now();
    const outcome = await client.getWorkflowResult({ workflowId, wait: durationFromMs(1000) }, { headers: header }).then(
      (res) => res.status,
      (err: unknown) => ConnectError.from(err),
    );
    await stopAll(protocol, [workflowId]);
    return { outcome, ms: performance.now() - t0 };
  };

  // Node's setTimeout fires after 1 ms when given more than 2^31 - 1 ms: the longest deadline became none.
  it("keeps the longest deadline gRPC allows (99999999H) from expiring at once", async () => {
    const { outcome, ms } = await waitRunning("grpc", { "grpc-timeout": "99999999H" });
    expect(outcome).toBe(WorkflowStatus.RUNNING);
    expect(ms).toBeGreaterThanOrEqual(900);
  });

  it("keeps the longest deadline Connect allows (ten digits of ms) from expiring at once", async () => {
    const { outcome, ms } = await waitRunning("connect-json", { "connect-timeout-ms": "9999999999" });
    expect(outcome).toBe(WorkflowStatus.RUNNING);
    expect(ms).toBeGreaterThanOrEqual(900);
  });

  it("takes a REST call's deadline from grpc-timeout, as gRPC-gateway does", async () => {
    const workflowId = `bound-rest-${randomUUID()}`;
    await workflowClient("rest", server.baseUrl).startWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: 60 }) });
    const t0 = performance.now();
    const res = await fetch(`${server.baseUrl}/workflows/v1/result/${workflowId}?wait=60s`, { headers: { "grpc-timeout": "800m" } });
    const ms = performance.now() - t0;
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: "deadline_exceeded" });
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(ms).toBeLessThan(3000);

    const bad = await fetch(`${server.baseUrl}/workflows/v1/result/${workflowId}?wait=0s`, { headers: { "grpc-timeout": "soon" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "invalid_argument", message: expect.stringContaining('the grpc-timeout header "soon" is not a timeout') });
    await stopAll("rest", [workflowId]);
  });
});
