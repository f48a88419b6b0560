// Flowgate killed outright (SIGKILL) under a start load, then started again: clients that retry with
// their request_id until answered lose no acknowledged start and make no second run, whichever attempt
// (before the crash, during it, after it) reached Temporal.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, describe, expect, inject, it } from "vitest";
import { TEST_NAMESPACE, TEST_TASK_QUEUE } from "../helpers/constants.js";
import { cleanEnv, startFlowgate, stopAllFlowgates } from "../helpers/flowgate-process.js";
import { workflowClient, type ProtocolName } from "../helpers/protocols.js";
import { runIdsOf } from "../helpers/temporal.js";
import { freePort } from "../helpers/tools.js";

const PROTOCOLS: readonly ProtocolName[] = ["grpc", "connect-json", "rest", "connect-binary", "grpc", "rest"];

afterAll(stopAllFlowgates);

describe("Flowgate killed under load", () => {
  it("loses no acknowledged start and makes no duplicate when clients retry by request_id", { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-crash-"));
    const env = cleanEnv({
      TEMPORAL_ADDRESS: inject("temporalAddress"),
      TEMPORAL_NAMESPACE: TEST_NAMESPACE,
      FLOWGATE_PORT: String(await freePort()),
      FLOWGATE_DATA_DIR: path.join(dir, ".flowgate"),
      FLOWGATE_TASK_QUEUE: TEST_TASK_QUEUE,
      FLOWGATE_ALLOW_UNREGISTERED: "true",
    });
    let flowgate = await startFlowgate(env, { cwd: dir });
    const baseUrl = flowgate.baseUrl;

    /** Each logical start: its workflow id (= request id) and the run the client was finally told about. */
    const acknowledged = new Map<string, string>();
    let attempts = 0;
    let running = true;
    const callers = PROTOCOLS.map(async (protocol) => {
      const client = workflowClient(protocol, baseUrl);
      while (running) {
        const workflowId = `crash-${randomUUID()}`;
        // A well-behaved client: the same request again until it gets an answer.
        for (;;) {
          attempts++;
          try {
            const res = await client.startWorkflow(
              { workflowType: "greet", workflowId, requestId: workflowId, input: fromJson(ValueSchema, { name: "crash" }) },
              { timeoutMs: 5000 },
            );
            acknowledged.set(workflowId, res.runId);
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }
    });

    await new Promise((resolve) => setTimeout(resolve, 3000));
    const beforeCrash = acknowledged.size;
    flowgate.process.kill("SIGKILL");
    await flowgate.exited;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    flowgate = await startFlowgate(env, { cwd: dir });
    const afterRestart = acknowledged.size;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    running = false;
    await Promise.all(callers);

    expect(beforeCrash, "starts before the crash").toBeGreaterThan(10);
    expect(acknowledged.size, "starts after the restart").toBeGreaterThan(afterRestart);
    // Every logical start is exactly one run in Temporal: the one the client was told about.
    const problems: string[] = [];
    for (const [workflowId, runId] of acknowledged) {
      const runIds = await runIdsOf(workflowId);
      if (runIds.length !== 1 || runIds[0] !== runId) problems.push(`${workflowId}: told ${runId}, Temporal has [${runIds.join(", ")}]`);
    }
    expect(problems).toEqual([]);
    console.info(`crash: ${acknowledged.size} starts acknowledged in ${attempts} attempts, each exactly one run`);
    await flowgate.stop();
    await rm(dir, { recursive: true, force: true });
  });
});
