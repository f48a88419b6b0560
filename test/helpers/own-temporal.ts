// A Temporal dev server of a test's own, which the test may kill outright (SIGKILL, as a crash or an OOM
// kill would) and start again on the same port and SQLite file, so that what it acknowledged survives.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { cachedCliPath } from "../../src/embedded/index.js";
import { waitForTemporal } from "../../src/temporal/index.js";
import { TEST_NAMESPACE } from "./constants.js";
import { freePort, TOOLS_DIR } from "./tools.js";

export interface OwnTemporal {
  /** 127.0.0.1:PORT, the same across restarts. */
  readonly address: string;
  /** Starts the server (again) and waits until it answers. */
  start(): Promise<void>;
  /** SIGKILL: no chance to flush or say goodbye. */
  kill(): Promise<void>;
  /** Kills it (if running) and deletes its files. */
  dispose(): Promise<void>;
}

export async function ownTemporal(): Promise<OwnTemporal> {
  const cli = process.env.TEMPORAL_CLI || cachedCliPath(TOOLS_DIR);
  const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-own-temporal-"));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();

  const kill = async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    child = undefined;
  };
  return {
    address,
    async start() {
      const args = ["server", "start-dev", "--ip", "127.0.0.1", "--port", String(port), "--headless"];
      args.push("--namespace", TEST_NAMESPACE, "--log-level", "error", "--db-filename", path.join(dir, "temporal.db"));
      const started = spawn(cli, args, { stdio: "ignore" });
      child = started;
      exited = new Promise((resolve) => started.once("exit", resolve));
      await waitForTemporal({ address, namespace: TEST_NAMESPACE }, 60_000);
    },
    kill,
    async dispose() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
