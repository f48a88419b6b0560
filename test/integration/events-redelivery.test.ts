// No event starts a workflow twice: the same events delivered 50 times each, all at once, through two
// Flowgate processes sharing one Temporal (one of them behind a slow link, so deliveries keep arriving while
// the first run is starting, running and closing), make exactly one run per (trigger, event id).
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, startFlowgate, stopAllFlowgates, type FlowgateProcess } from "../helpers/flowgate-process.js";
import { startSlowLink, type SlowLink } from "../helpers/slow-link.js";
import { runIdsOf } from "../helpers/temporal.js";
import { TEST_TASK_QUEUE } from "../helpers/constants.js";
import { freePort } from "../helpers/tools.js";

let link: SlowLink;
let replicas: FlowgateProcess[];
let dir: string;
beforeAll(async () => {
  link = await startSlowLink(inject("temporalAddress"), 20);
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-redelivery-"));
  const replica = async (address: string, name: string) =>
    startFlowgate(
      cleanEnv({
        FLOWGATE_TEMPORAL_ADDRESS: address,
        FLOWGATE_PORT: String(await freePort()),
        FLOWGATE_DATA_DIR: path.join(dir, name),
        // The samples (and their trigger, sample-greet) without a worker of their own: the test worker runs them.
        FLOWGATE_SAMPLES: "true",
        FLOWGATE_START_WORKER: "false",
        FLOWGATE_TASK_QUEUE: TEST_TASK_QUEUE,
      }),
    );
  replicas = await Promise.all([replica(inject("temporalAddress"), "a"), replica(link.address, "b")]);
}, 120_000);
afterAll(async () => {
  await stopAllFlowgates();
  await link?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface Published {
  readonly status: number;
  readonly body: { fired?: Array<{ trigger_id: string; workflow_id: string; run_id: string; already_started: boolean }> };
}

async function publish(baseUrl: string, id: string): Promise<Published> {
  const res = await fetch(`${baseUrl}/events/v1/event/${id}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id, source: "/redelivery", type: "flowgate.sample.greet", data: { name: "Ada" } }),
  });
  return { status: res.status, body: (await res.json()) as Published["body"] };
}

describe("an event delivered 50 times at once, through two replicas", () => {
  it("starts one run per matching trigger, and every delivery answers with it", async () => {
    const ids = Array.from({ length: 4 }, () => `redelivered-${randomUUID()}`);
    for (const id of ids) {
      const deliveries = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          // Spread over ~300 ms, so some arrive after the first run has closed.
          await new Promise((resolve) => setTimeout(resolve, (i % 10) * 30));
          return publish(replicas[i % 2]!.baseUrl, id);
        }),
      );
      const failed = deliveries.filter((d) => d.status !== 200);
      expect(failed, `event ${id}: deliveries that failed`).toEqual([]);
      const runIds = new Set(deliveries.map((d) => d.body.fired?.[0]?.run_id));
      expect(deliveries.every((d) => d.body.fired?.length === 1 && d.body.fired[0]!.workflow_id === `sample-greet:${id}`)).toBe(true);
      expect(await runIdsOf(`sample-greet:${id}`), `event ${id}: runs in Temporal`).toEqual([...runIds]);
      expect(runIds.size, `event ${id}: every delivery names the one run`).toBe(1);
      const firsts = deliveries.filter((d) => d.body.fired?.[0]?.already_started === false);
      expect(firsts.length, `event ${id}: deliveries that say they started it`).toBe(1);
    }
  }, 120_000);
});
