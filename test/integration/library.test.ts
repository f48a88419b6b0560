// createFlowgate's lifecycle, as an application relies on it: its startup runs once Flowgate's stores and
// worker are up, its shutdown after the API has stopped taking calls and before the stores close, a failing
// startup stops everything already started, and a declaration that cannot work is refused before anything
// starts. Against the run's Temporal and a real PostgreSQL server (to see connections open and close).
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createFlowgate, type FlowgateContext } from "../../src/index.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { freshDatabase } from "../helpers/postgres.js";

const WORKFLOWS = path.resolve("test/fixtures/user/workflows.ts");
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "flowgate-library-"));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({
  FLOWGATE_TEMPORAL_ADDRESS: inject("temporalAddress"),
  FLOWGATE_TEMPORAL_NAMESPACE: TEST_NAMESPACE,
  FLOWGATE_TASK_QUEUE: `library-${randomUUID()}`,
  FLOWGATE_DATA_DIR: dataDir,
  FLOWGATE_LOG_LEVEL: process.env.FLOWGATE_TEST_LOG_LEVEL ?? "silent",
  ...extra,
});

/** Connections to `database` other than the asking one. */
async function connectionsTo(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

describe("createFlowgate", () => {
  it("runs the application's startup after its own start, and its shutdown after the API stops and before the stores close", async () => {
    const steps: string[] = [];
    let baseUrl = "";
    const flowgate = createFlowgate({
      env: env(),
      workflows: WORKFLOWS,
      activities: () => {
        steps.push("activities made");
        return { priceOf: async () => 1 };
      },
      lifespan: {
        async startup({ configs }: FlowgateContext) {
          // The stores are open: the application can seed them.
          await configs.put("library-seed", { ready: true }, { mode: "replace", expectedVersion: undefined });
          steps.push("startup");
        },
        async shutdown({ configs }: FlowgateContext) {
          // The API no longer takes calls; the store is still open.
          const refused = await fetch(`${baseUrl}/health/live`).then(
            () => "answered",
            () => "refused",
          );
          steps.push(`shutdown: API ${refused}, config ${JSON.stringify((await configs.get("library-seed")).config)}`);
        },
      },
    });
    const app = await flowgate.build();
    await app.listen({ host: "127.0.0.1", port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const stored = (await (await fetch(`${baseUrl}/workflows/v1/config/library-seed`)).json()) as { config: unknown };
    expect(stored.config).toEqual({ ready: true });
    await flowgate.close();
    await flowgate.close(); // twice is harmless
    expect(steps).toEqual(["activities made", "startup", 'shutdown: API refused, config {"ready":true}']);
  });

  it("stops everything it started when the application's startup fails, and throws its error", async () => {
    const url = await freshDatabase(inject("postgresUrl"));
    let connectionsAtStartup = 0;
    const flowgate = createFlowgate({
      env: env({ FLOWGATE_DATABASE_URL: url }),
      workflows: WORKFLOWS,
      activities: { priceOf: async () => 1 },
      lifespan: {
        async startup({ configs }) {
          await configs.list(1, "", "");
          connectionsAtStartup = await connectionsTo(url);
          throw new Error("the shop's catalogue is unreachable");
        },
      },
    });
    await expect(flowgate.build()).rejects.toThrow("the shop's catalogue is unreachable");
    expect(connectionsAtStartup).toBeGreaterThan(0);
    // A backend leaves pg_stat_activity a moment after its client disconnects.
    await expect.poll(() => connectionsTo(url), { timeout: 5000 }).toBe(0);
  });

  it("refuses a workflow type declared twice, or a trigger for a type nobody declared, before starting anything", async () => {
    const twice = createFlowgate({
      env: env(),
      workflows: WORKFLOWS,
      workflowTypes: [
        { name: "quote", description: "one" },
        { name: "quote", description: "two" },
      ],
    });
    await expect(twice.build()).rejects.toThrow(/quote/);
    const orphan = createFlowgate({
      env: env(),
      workflows: WORKFLOWS,
      workflowTypes: [{ name: "quote", description: "prices a line" }],
      triggers: [{ id: "on-order", workflowType: "placeOrder", filter: { types: ["shop.order"] } }],
    });
    await expect(orphan.build()).rejects.toThrow(/on-order.*placeOrder/);
  });

  it("runs completion callbacks' deliveries in its process when FLOWGATE_CALLBACK_ALLOW lists the receiver", async () => {
    const bodies: unknown[] = [];
    const receiver = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString()));
      req.on("end", () => {
        bodies.push(JSON.parse(text));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    const flowgate = createFlowgate({
      env: env({ FLOWGATE_CALLBACK_ALLOW: origin }),
      workflows: WORKFLOWS,
      activities: { priceOf: async () => 2 },
      workflowTypes: [{ name: "quote", description: "prices a line" }],
    });
    try {
      const app = await flowgate.build();
      const started = await app.inject({
        method: "POST",
        url: "/workflows/v1/start",
        payload: { workflow_type: "quote", input: { sku: "tea", quantity: 3 }, callback: { url: `${origin}/done` } },
      });
      expect(started.statusCode, started.body).toBe(200);
      await expect.poll(() => bodies, { timeout: 30_000 }).toEqual([expect.objectContaining({ status: "WORKFLOW_STATUS_COMPLETED", result: { sku: "tea", total: 6 } })]);
    } finally {
      await flowgate.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('refuses activities given in code with the "process" worker, which cannot receive them', async () => {
    const flowgate = createFlowgate({ env: env(), worker: "process", workflows: WORKFLOWS, activities: { priceOf: async () => 1 } });
    await expect(flowgate.build()).rejects.toThrow(/worker: "process"/);
  });
});
