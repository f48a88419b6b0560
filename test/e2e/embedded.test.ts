// The embedded default as `npm start` runs it (src/main.ts in its own process): it brings up Temporal, the
// worker and the API; a workflow survives a restart (the SQLite file); SIGTERM stops everything cleanly,
// also through `npm start`; whatever it refuses, it refuses before starting anything.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedCliPath } from "../../src/embedded/index.js";
import { cleanEnv, runFlowgateToExit, startFlowgate, stopAllFlowgates } from "../helpers/flowgate-process.js";
import { freePort, REPO_ROOT, TOOLS_DIR } from "../helpers/tools.js";

let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "flowgate-e2e-"));
  env = cleanEnv({
    FLOWGATE_PORT: String(await freePort()),
    FLOWGATE_TEMPORAL_DEV_PORT: String(await freePort()),
    FLOWGATE_TEMPORAL_UI_PORT: "0",
    FLOWGATE_DATA_DIR: dataDir,
    // The test setup installed the pinned CLI already; the embedded default would install the same.
    TEMPORAL_CLI: process.env.TEMPORAL_CLI || cachedCliPath(TOOLS_DIR),
  });
});

afterAll(async () => {
  await stopAllFlowgates();
  await rm(dataDir, { recursive: true, force: true });
});

/** True when something accepts connections on 127.0.0.1:port. */
async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Polls /health/ready until it answers 200; false when it does not within `ms`. */
async function readyWithin(baseUrl: string, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 250))) {
    if ((await fetch(`${baseUrl}/health/ready`)).status === 200) return true;
  }
  return false;
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe("npm start (embedded default)", () => {
  // Two full start-ups (Temporal, a worker bundling its workflows, the API) on a busy 2-core machine.
  it("runs workflows, keeps them across a restart, and stops cleanly", { timeout: 180_000 }, async () => {
    let flowgate = await startFlowgate(env, { cwd: dataDir });
    const run = await fetch(`${flowgate.baseUrl}/workflows/v1/run`, {
      method: "POST",
      body: JSON.stringify({ workflow_type: "greet", input: { name: "Ada" } }),
    });
    expect(await json(run)).toMatchObject({ status: "WORKFLOW_STATUS_COMPLETED", result: { greeting: "Hello, Ada!" } });
    const started = await json(
      await fetch(`${flowgate.baseUrl}/workflows/v1/start`, {
        method: "POST",
        body: JSON.stringify({ workflow_type: "sleep", workflow_id: "survivor", input: { seconds: 3600 } }),
      }),
    );
    expect(await flowgate.stop()).toBe(0);

    flowgate = await startFlowgate(env, { cwd: dataDir });
    const status = await json(await fetch(`${flowgate.baseUrl}/workflows/v1/status/survivor`));
    expect(status).toMatchObject({ run_id: started.run_id, status: "WORKFLOW_STATUS_RUNNING" });
    // Ready once the restarted worker polls again.
    expect(await readyWithin(flowgate.baseUrl, 30_000)).toBe(true);
    expect(await flowgate.stop()).toBe(0);
    // Stopped means stopped: the embedded Temporal is gone too.
    expect(await listening(Number(env.FLOWGATE_TEMPORAL_DEV_PORT))).toBe(false);
  });

  it("leaves nothing running even when killed outright", { timeout: 120_000 }, async () => {
    const devPort = Number(env.FLOWGATE_TEMPORAL_DEV_PORT);
    const flowgate = await startFlowgate(env, { cwd: dataDir });
    expect(await listening(devPort)).toBe(true);
    flowgate.process.kill("SIGKILL"); // no chance to clean up: the kernel stops its children
    await flowgate.exited;
    let stillUp = true;
    for (let i = 0; i < 50 && stillUp; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      stillUp = await listening(devPort);
    }
    expect(stillUp).toBe(false);
  });

  it("refuses a taken port before starting anything, and says so plainly", { timeout: 120_000 }, async () => {
    const blocker = net.createServer();
    const apiPort = await freePort();
    const devPort = await freePort();
    await new Promise<void>((resolve) => blocker.listen(apiPort, "127.0.0.1", resolve));
    try {
      const { code, output } = await runFlowgateToExit({ ...env, FLOWGATE_PORT: String(apiPort), FLOWGATE_TEMPORAL_DEV_PORT: String(devPort) }, dataDir);
      expect(code).toBe(1);
      expect(output).toContain(`flowgate: port ${apiPort} on 127.0.0.1 is taken (EADDRINUSE). Is Flowgate already running? Set FLOWGATE_PORT to another port.`);
      expect(output).not.toMatch(/started the Temporal dev server|started the worker process/);
      expect(await listening(devPort)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it("refuses a bad workflow-types file before starting anything, naming the file and line", { timeout: 60_000 }, async () => {
    const file = path.join(dataDir, "types.yaml");
    await writeFile(file, "workflows:\n  - name: order\n    input: { type: object, requird: [id] }\n");
    const { code, output } = await runFlowgateToExit({ ...env, FLOWGATE_WORKFLOWS_FILE: file }, dataDir);
    expect(code).toBe(2);
    // Named as the user would: relative to the working folder it is in.
    expect(output).toContain('flowgate: invalid configuration: types.yaml:3:12: workflows[0].input: not a valid JSON Schema: strict mode: unknown keyword: "requird"');
    expect(output).not.toMatch(/started the Temporal dev server/);
  });

  it("stops when a process manager stops `npm start` (SIGTERM reaches Flowgate)", { timeout: 60_000 }, async () => {
    // An unreachable cluster: the API starts (not ready) without Temporal, which keeps this quick.
    const port = await freePort();
    const emptyTypes = path.join(dataDir, "no-types.yaml");
    await writeFile(emptyTypes, "workflows: []\n");
    const npm = spawn("npm", ["start", "--silent"], {
      cwd: REPO_ROOT,
      // npm start runs in the Flowgate folder; a types file of the developer's there must not count here.
      env: { ...env, FLOWGATE_PORT: String(port), TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, FLOWGATE_WORKFLOWS_FILE: emptyTypes },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => npm.once("exit", resolve));
    try {
      let up = false;
      for (let i = 0; i < 120 && !up; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        up = await listening(port);
      }
      expect(up).toBe(true);
      npm.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(await listening(port)).toBe(false);
    } finally {
      if (npm.exitCode === null) npm.kill("SIGKILL");
    }
  });
});
