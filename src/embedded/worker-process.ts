// The embedded default runs the worker as its own process, as production does: a workflow bug or a worker
// restart never takes the API down with it.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Logger } from "pino";
import { spawnOwned, stopChild } from "./child.js";

/** This module's own extension: .ts when run from source (tsx), .js when compiled to dist/. */
const EXT = path.extname(fileURLToPath(import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL(`../worker/main${EXT}`, import.meta.url));
/** tsx's loader, which the worker needs to import a user's TypeScript activities from compiled Flowgate. */
const tsxLoader = () => pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

export interface WorkerProcess {
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts the worker's main module with this process's flags (tsx's loader when run from source) and the
 * given extra environment. Compiled Flowgate adds tsx's loader only when the user's activities module is
 * TypeScript: workflows are bundled by Temporal's bundler, which reads TypeScript itself.
 */
export function spawnWorkerProcess(env: Record<string, string>, log: Logger): WorkerProcess {
  const typescriptActivities = /\.[mc]?ts$/.test(env.FLOWGATE_WORKER_ACTIVITIES ?? process.env.FLOWGATE_WORKER_ACTIVITIES ?? "");
  const loader = EXT === ".js" && typescriptActivities ? ["--import", tsxLoader()] : [];
  const child = spawnOwned(process.execPath, [...process.execArgv, ...loader, WORKER_MAIN], {
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
