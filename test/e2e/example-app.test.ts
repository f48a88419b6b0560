// The example app as the README runs it: `npm run example`'s command in its own process (here on the run's
// Temporal, with a free port and its own data folder), the README's curl commands against it, and SIGTERM
// stopping it in order, the app's shutdown hook included.
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { cleanEnv, startFlowgate, stopAllFlowgates, type FlowgateProcess } from "../helpers/flowgate-process.js";
import { runShell } from "../helpers/readme.js";
import { freePort, REPO_ROOT } from "../helpers/tools.js";

let dir: string;
let app: FlowgateProcess;
let commands: string[];
beforeAll(async () => {
  const readme = await readFile(path.join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Building an application on Flowgate"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("the README's example section has no sh block");
  // One command per entry: continuation lines joined.
  commands = block.replaceAll("\\\n", " ").trim().split("\n");
  const script = (JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.example!;
  const args = script.replace(/^exec node /, "").split(" ");
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-example-app-"));
  app = await startFlowgate(
    cleanEnv({
      FLOWGATE_TEMPORAL_ADDRESS: inject("temporalAddress"),
      FLOWGATE_TEMPORAL_NAMESPACE: TEST_NAMESPACE,
      FLOWGATE_TASK_QUEUE: `orders-${randomUUID()}`,
      FLOWGATE_DATA_DIR: dir,
      FLOWGATE_HOST: "127.0.0.1",
      FLOWGATE_PORT: String(await freePort()),
    }),
    { args },
  );
}, 120_000);
afterAll(async () => {
  await stopAllFlowgates();
  await rm(dir, { recursive: true, force: true });
});

describe("npm run example", () => {
  const run = async (command: string) => JSON.parse(await runShell(command.replaceAll("localhost:8000", new URL(app.baseUrl).host))) as Record<string, unknown>;

  it("answers the README's commands, and the edited config prices the next order", async () => {
    expect(commands).toHaveLength(3);
    const [publish, result, edit] = commands as [string, string, string];
    expect(await run(publish)).toMatchObject({ fired: [{ trigger_id: "order-placed", workflow_id: "order-placed:e-1" }] });
    expect(await run(result)).toMatchObject({ result: { status: "accepted", currency: "EUR", total: 9, discount: 0 } });
    expect(await run(edit)).toMatchObject({ config_id: "orders", config: { discount_percent: 10 } });
    // "The next order gets the 10 % discount."
    await run(publish.replaceAll("e-1", "e-2"));
    expect(await run(result.replaceAll("e-1", "e-2"))).toMatchObject({ result: { total: 8.1, discount: 0.9 } });
  });

  it("stops in order on SIGTERM, running the app's shutdown hook", async () => {
    expect(await app.stop()).toBe(0);
    const messages = app.output.filter((line) => line.startsWith("{")).map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain("shutting down");
    expect(messages.indexOf("orders app stopped")).toBeGreaterThan(messages.indexOf("shutting down"));
  });
});
