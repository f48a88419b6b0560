// grpcurl (a real, independent gRPC client) against the server through reflection: list, describe, call.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SAMPLE_TRIGGERS } from "../../src/samples/index.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const run = promisify(execFile);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ triggers: SAMPLE_TRIGGERS });
});
afterAll(async () => {
  await server?.close();
});

async function grpcurl(...args: string[]): Promise<string> {
  const { stdout } = await run(inject("grpcurl"), ["-plaintext", ...args], { timeout: 30_000 });
  return stdout;
}

describe("grpcurl through server reflection", () => {
  it("lists the services", async () => {
    const services = (await grpcurl(server.hostPort, "list")).trim().split("\n").sort();
    expect(services).toEqual([
      "flowgate.config.v1.ConfigService",
      "flowgate.events.v1.EventsService",
      "flowgate.workflow.v1.WorkflowService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it("describes the service and a message", async () => {
    const service = await grpcurl(server.hostPort, "describe", "flowgate.workflow.v1.WorkflowService");
    for (const rpc of ["StartWorkflow", "RunWorkflow", "GetWorkflowStatus", "GetWorkflowResult", "StopWorkflow"]) {
      expect(service).toContain(`rpc ${rpc} (`);
    }
    const message = await grpcurl(server.hostPort, "describe", "flowgate.workflow.v1.StartWorkflowRequest");
    expect(message).toMatch(/string workflow_type = 1/);
    expect(message).toMatch(/\.google\.protobuf\.Value input = 4/);
  });

  it("runs a workflow", async () => {
    const out = await grpcurl(
      "-d",
      JSON.stringify({ workflow_type: "greet", input: { name: "Ada" } }),
      server.hostPort,
      "flowgate.workflow.v1.WorkflowService/RunWorkflow",
    );
    expect(JSON.parse(out)).toMatchObject({ status: "WORKFLOW_STATUS_COMPLETED", result: { greeting: "Hello, Ada!" } });
  });

  it("publishes an event that starts the sample trigger's workflow", async () => {
    const id = `grpcurl-${Date.now()}`;
    const out = await grpcurl(
      "-d",
      JSON.stringify({ event: { id, type: "flowgate.sample.greet", data: { name: "Ada" } } }),
      server.hostPort,
      "flowgate.events.v1.EventsService/PublishEvent",
    );
    expect(JSON.parse(out)).toMatchObject({ eventId: id, fired: [{ triggerId: "sample-greet", workflowId: `sample-greet:${id}` }], status: "SUCCESS" });
  });

  it("reports a call error with its gRPC code", async () => {
    const err = (await grpcurl(
      "-d",
      JSON.stringify({ workflow_id: "never-started" }),
      server.hostPort,
      "flowgate.workflow.v1.WorkflowService/GetWorkflowStatus",
    ).catch((e: unknown) => e)) as { stderr?: string };
    expect(err.stderr).toMatch(/Code: NotFound/);
    expect(err.stderr).toMatch(/workflow "never-started" not found/);
  });

  it("checks health", async () => {
    const out = await grpcurl(server.hostPort, "grpc.health.v1.Health/Check");
    expect(JSON.parse(out)).toEqual({ status: "SERVING" });
  });
});
