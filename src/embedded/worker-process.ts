// The embedded default runs the worker as its own process, as production does: a workflow bug or a worker
// restart never takes the API down with it.
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { spawnOwned, stopChild } from "./child.js";

const WORKER_MAIN = fileURLToPath(new URL("../worker/main.ts", import.meta.url));

export interface WorkerProcess {
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `src/worker/main.ts` with this process's loader flags (tsx) and the given extra environment. */
export function spawnWorkerProcess(env: Record<string, string>, log: Logger): WorkerProcess {
  const child = spawnOwned(process.execPath, [...process.execArgv, WORKER_MAIN], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  log.info({ pid: child.pid }, "started the worker process");
  return {
    exited,
    stop: () => stopChild(child, exited, 15_000),
  };
}
