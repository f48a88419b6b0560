// Health probes: live while the process answers; ready only while Temporal answers.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";
import { startTestWorker } from "../helpers/worker.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { freePort } from "../helpers/tools.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { callError } from "../helpers/protocols.js";
import { Code } from "@connectrpc/connect";

describe("with Temporal up", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("is live and ready over HTTP", async () => {
    for (const path of ["/health", "/health/live", "/health/ready"]) {
      const res = await fetch(server.baseUrl + path);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toMatchObject({ status: "ok" });
    }
  });

  it("answers grpc.health.v1 Check for the server and its services", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: "flowgate.workflow.v1.WorkflowService" })).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
    expect((await callError(health.check({ service: "no.such.Service" }))).code).toBe(Code.NotFound);
  });
});

describe("with Temporal unreachable", () => {
  let server: TestServer;
  let baseUrl: string;
  beforeAll(async () => {
    // Nothing listens on this port: the API must still start, and say it is not ready.
    server = await startTestServer({ temporalAddress: `127.0.0.1:${await freePort()}`, workflowTypes: SAMPLE_WORKFLOW_TYPES });
    baseUrl = server.baseUrl;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("is live but not ready", async () => {
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    const ready = await fetch(`${baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "unavailable", temporal: "unreachable" });
    const health = createClient(Health, createGrpcTransport({ baseUrl }));
    // The process is fine (a liveness probe must not restart it); the service is not ready.
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: "flowgate.workflow.v1.WorkflowService" })).status).toBe(
      HealthCheckResponse_ServingStatus.NOT_SERVING,
    );
  });

  it("answers calls with Unavailable (503 on REST), not Internal", async () => {
    const res = await fetch(`${baseUrl}/workflows/v1/start`, {
      method: "POST",
      body: JSON.stringify({ workflow_type: "greet", input: { name: "x" } }),
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "unavailable" });
  });
});

describe("with a worker expected on a task queue", () => {
  const taskQueue = `readiness-${randomUUID()}`;
  let server: TestServer;
  let baseUrl: string;
  beforeAll(async () => {
    server = await startTestServer({ config: { taskQueue }, workflowTypes: SAMPLE_WORKFLOW_TYPES, workerTaskQueue: taskQueue });
    baseUrl = server.baseUrl;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("is not ready until a worker polls that queue, then is", { timeout: 60_000 }, async () => {
    const before = await fetch(`${baseUrl}/health/ready`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ status: "unavailable", temporal: "reachable", worker: "not polling yet" });
    const health = createClient(Health, createGrpcTransport({ baseUrl }));
    expect((await health.check({ service: "flowgate.workflow.v1.WorkflowService" })).status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);

    const worker = await startTestWorker({ address: inject("temporalAddress"), namespace: TEST_NAMESPACE, taskQueue });
    try {
      let after: Response | undefined;
      for (let i = 0; i < 60 && after?.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        after = await fetch(`${baseUrl}/health/ready`);
      }
      expect(after?.status).toBe(200);
      expect(await after?.json()).toMatchObject({ status: "ok", temporal: "reachable", worker: "polling" });
    } finally {
      await worker.close();
    }
  });
});
