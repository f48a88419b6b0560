// The embedded Temporal: `temporal server start-dev` as a child process, its state in a SQLite file so
// workflows survive a restart.
import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import type { Logger } from "pino";
import { spawnOwned, stopChild } from "./child.js";
import { assertPortFree } from "./ports.js";

export interface DevServerOptions {
  readonly cli: string;
  readonly host?: string;
  readonly port: number;
  /** 0 runs the server without its web UI. */
  readonly uiPort: number;
  /** SQLite file; undefined keeps everything in memory (tests, benchmarks). */
  readonly dbFile: string | undefined;
  readonly namespace: string;
  readonly log: Logger;
}

export interface DevServer {
  readonly address: string;
  readonly uiUrl: string | undefined;
  /** Resolves when the process exits; rejects never. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const host = options.host ?? "127.0.0.1";
  const hint = "Is another Temporal running? Point FLOWGATE_TEMPORAL_ADDRESS at it to use it instead.";
  await assertPortFree(host, options.port, "FLOWGATE_TEMPORAL_DEV_PORT", hint);
  if (options.uiPort !== 0) await assertPortFree(host, options.uiPort, "FLOWGATE_TEMPORAL_UI_PORT", hint);
  const args = ["server", "start-dev", "--ip", host, "--port", String(options.port), "--namespace", options.namespace, "--log-level", "warn"];
  args.push(...(options.uiPort === 0 ? ["--headless"] : ["--ui-port", String(options.uiPort)]));
  if (options.dbFile !== undefined) {
    await mkdir(path.dirname(options.dbFile), { recursive: true });
    args.push("--db-filename", options.dbFile);
  }
  const log = options.log.child({ component: "temporal-dev-server" });
  const child: ChildProcess = spawnOwned(options.cli, args, { stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout!, child.stderr!]) {
    readline.createInterface({ input: stream }).on("line", (line) => log.debug(line));
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", (err) => {
      log.error({ err }, "could not run the Temporal CLI");
      resolve(null);
    });
  });
  log.info({ address: `${host}:${options.port}`, db: options.dbFile ?? "in memory" }, "started the Temporal dev server");
  return {
    address: `${host}:${options.port}`,
    uiUrl: options.uiPort === 0 ? undefined : `http://${host}:${options.uiPort}`,
    exited,
    stop: () => stopChild(child, exited, 10_000),
  };
}
