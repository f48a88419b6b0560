// One minute of steady mixed load on a Flowgate process (starts, status reads, result waits, health, on
// every protocol), sampling its resident memory and open file descriptors: nothing fails, memory levels
// off instead of climbing, and descriptors stay flat (one per client connection).
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fromJson } from "@bufbuild/protobuf";
import { durationFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { afterAll, describe, expect, inject, it } from "vitest";
import { TEST_NAMESPACE, TEST_TASK_QUEUE } from "../helpers/constants.js";
import { cleanEnv, startFlowgate, stopAllFlowgates } from "../helpers/flowgate-process.js";
import { PROTOCOLS, workflowClient } from "../helpers/protocols.js";
import { freePort } from "../helpers/tools.js";

const SOAK_MS = Number(process.env.SOAK_SECONDS ?? 60) * 1000;
const SAMPLE_MS = 5000;

afterAll(stopAllFlowgates);

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
}
const openFds = async (pid: number) => (await readdir(`/proc/${pid}/fd`)).length;

describe("a one-minute soak", () => {
  it("serves a steady mixed load with flat memory and no leaked descriptors", { timeout: SOAK_MS + 120_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-soak-"));
    const flowgate = await startFlowgate(
      cleanEnv({
        TEMPORAL_ADDRESS: inject("temporalAddress"),
        TEMPORAL_NAMESPACE: TEST_NAMESPACE,
        FLOWGATE_PORT: String(await freePort()),
        FLOWGATE_DATA_DIR: path.join(dir, ".flowgate"),
        FLOWGATE_TASK_QUEUE: TEST_TASK_QUEUE,
        FLOWGATE_SAMPLES: "true",
      }),
      { cwd: dir },
    );
    const pid = flowgate.process.pid!;
    const fdsIdle = await openFds(pid);

    const failures: string[] = [];
    let calls = 0;
    let running = true;
    const callers = PROTOCOLS.map(async (protocol) => {
      const client = workflowClient(protocol, flowgate.baseUrl);
      while (running) {
        try {
          const started = await client.startWorkflow({ workflowType: "greet", requestId: randomUUID(), input: fromJson(ValueSchema, { name: "soak" }) });
          await client.getWorkflowStatus({ workflowId: started.workflowId });
          await client.getWorkflowResult({ workflowId: started.workflowId, wait: durationFromMs(10_000) });
          await fetch(`${flowgate.baseUrl}/health/live`).then((r) => r.text());
          calls += 4;
        } catch (err) {
          failures.push(`${protocol}: ${ConnectError.from(err).message}`);
        }
      }
    });

    const samples: { rss: number; fds: number }[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < SOAK_MS) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      samples.push({ rss: await rssMb(pid), fds: await openFds(pid) });
    }
    running = false;
    await Promise.all(callers);
    // Idle keep-alive connections of the load's clients close with their agents; give the server a moment.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const fdsAfter = await openFds(pid);
    await flowgate.stop();
    await rm(dir, { recursive: true, force: true });

    console.info(
      `soak: ${calls} calls in ${SOAK_MS / 1000} s, ${failures.length} failed; RSS MB ${samples.map((s) => s.rss.toFixed(0)).join(" ")}; ` +
        `fds idle ${fdsIdle}, under load ${samples.map((s) => s.fds).join(" ")}, after ${fdsAfter}`,
    );
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(100);
    // Memory stays bounded: the second half's peak within 30% of the first half's. V8 grows its heap under
    // steady allocation for a while before it settles (15% was exceeded once, 192 -> 228 MB, on a loaded
    // machine); a leak of the size of the calls made would double it in a minute.
    const half = Math.floor(samples.length / 2);
    const firstPeak = Math.max(...samples.slice(0, half).map((s) => s.rss));
    const secondPeak = Math.max(...samples.slice(half).map((s) => s.rss));
    expect(secondPeak, `RSS ${firstPeak.toFixed(0)} MB -> ${secondPeak.toFixed(0)} MB`).toBeLessThan(firstPeak * 1.3);
    // Descriptors: one per client connection, which the load's clients keep alive; they must not grow
    // while the load runs, and none is left beyond those once it stops.
    // Growth is the later samples above the earlier ones; fewer later is fine (the embedded database's
    // folder is made by a child process in the first seconds, whose pipes count until it exits).
    const fdsUnderLoad = samples.map((s) => s.fds);
    const growth = Math.max(...fdsUnderLoad.slice(half)) - Math.min(...fdsUnderLoad.slice(0, half));
    expect(growth, "descriptor growth under load").toBeLessThanOrEqual(2);
    expect(fdsAfter).toBeLessThanOrEqual(Math.max(...fdsUnderLoad));
  });
});
