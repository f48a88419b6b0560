// The embedded default as `npm start` runs it (src/main.ts in its own process): it brings up Temporal, the
// worker and the API; a workflow survives a restart (the SQLite file); SIGTERM stops everything cleanly.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import readline from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedCliPath } from "../../src/embedded/index.js";
import { freePort, REPO_ROOT, TOOLS_DIR } from "../helpers/tools.js";

interface Flowgate {
  readonly process: ChildProcess;
  readonly baseUrl: string;
  readonly exited: Promise<number | null>;
}

let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "flowgate-e2e-"));
  env = {
    ...process.env,
    FLOWGATE_PORT: String(await freePort()),
    FLOWGATE_TEMPORAL_DEV_PORT: String(await freePort()),
    FLOWGATE_TEMPORAL_UI_PORT: "0",
    FLOWGATE_DATA_DIR: dataDir,
    FLOWGATE_LOG_PRETTY: "false",
    // The test setup installed the pinned CLI already; the embedded default would install the same.
    TEMPORAL_CLI: process.env.TEMPORAL_CLI || cachedCliPath(TOOLS_DIR),
  };
  delete env.FLOWGATE_TEMPORAL_ADDRESS;
  delete env.TEMPORAL_ADDRESS;
});

/** Every Flowgate this file started, so none outlives a failed or timed-out test. */
const started = new Set<Flowgate>();

afterAll(async () => {
  await Promise.all([...started].filter((f) => f.process.exitCode === null).map(stopFlowgate));
  await rm(dataDir, { recursive: true, force: true });
});

/** Starts src/main.ts and resolves once it logs that it serves. */
async function startFlowgate(): Promise<Flowgate> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  started.add({ process: child, baseUrl: "", exited: new Promise((resolve) => child.once("exit", resolve)) });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines: string[] = [];
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Flowgate did not start:\n${lines.join("\n")}`)), 90_000);
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on("line", (line) => {
        lines.push(line);
        const match = /serves gRPC, gRPC-Web, Connect and REST on (http:\/\/[\w.:]+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    }
    void exited.then((code) => reject(new Error(`Flowgate exited with ${code}:\n${lines.join("\n")}`)));
  });
  const flowgate = { process: child, baseUrl, exited };
  started.add(flowgate);
  return flowgate;
}

async function stopFlowgate(flowgate: Flowgate): Promise<number | null> {
  flowgate.process.kill("SIGTERM");
  return flowgate.exited;
}

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
    let flowgate = await startFlowgate();
    let stopped = false;
    try {
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

      expect(await stopFlowgate(flowgate)).toBe(0);
      stopped = true;

      flowgate = await startFlowgate();
      stopped = false;
      const status = await json(await fetch(`${flowgate.baseUrl}/workflows/v1/status/survivor`));
      expect(status).toMatchObject({ run_id: started.run_id, status: "WORKFLOW_STATUS_RUNNING" });
      // Ready once the restarted worker polls again.
      expect(await readyWithin(flowgate.baseUrl, 30_000)).toBe(true);
    } finally {
      if (!stopped) expect(await stopFlowgate(flowgate)).toBe(0);
    }
    // Stopped means stopped: the embedded Temporal is gone too.
    expect(await listening(Number(env.FLOWGATE_TEMPORAL_DEV_PORT))).toBe(false);
  });

  it("leaves nothing running even when killed outright", { timeout: 120_000 }, async () => {
    const devPort = Number(env.FLOWGATE_TEMPORAL_DEV_PORT);
    const flowgate = await startFlowgate();
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

  it("fails to start on a taken port, leaving nothing running", { timeout: 120_000 }, async () => {
    const blocker = net.createServer();
    const apiPort = await freePort();
    const devPort = await freePort();
    await new Promise<void>((resolve) => blocker.listen(apiPort, "127.0.0.1", resolve));
    try {
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
        cwd: REPO_ROOT,
        env: { ...env, FLOWGATE_PORT: String(apiPort), FLOWGATE_TEMPORAL_DEV_PORT: String(devPort) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      started.add({ process: child, baseUrl: "", exited: new Promise((resolve) => child.once("exit", resolve)) });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      expect(output).toMatch(/EADDRINUSE/);
      expect(await listening(devPort)).toBe(false);
    } finally {
      blocker.close();
    }
  });
});
