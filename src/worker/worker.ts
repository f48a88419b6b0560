// A Temporal worker for the sample workflows (or any workflows module). It runs in its own process in the
// embedded default, as workers do in production; tests run one in-process on their own task queue. It
// connects as the API does: same address, namespace, TLS and credentials.
import { createRequire } from "node:module";
import path from "node:path";
import { NativeConnection, Runtime, Worker } from "@temporalio/worker";
import type { Logger } from "pino";
import { sdkLogger } from "../observability/sdk-logger.js";
import { SAMPLE_ACTIVITIES, SAMPLE_WORKFLOWS_PATH } from "../samples/index.js";
import type { TracingSettings } from "../observability/index.js";
import type { TemporalTarget } from "../temporal/index.js";
import { workerTracing } from "./tracing.js";

export interface WorkerOptions extends TemporalTarget {
  readonly taskQueue: string;
  /** The workflows module; absent: the samples. */
  readonly workflowsPath?: string;
  /** Absent: the samples' activities when the workflows are the samples, else none. */
  readonly activities?: object;
  /** Activities run at once (the SDK's default, 100, when absent). */
  readonly maxConcurrentActivityTaskExecutions?: number;
  /** Where the workflows' and activities' spans go; absent: no tracing. */
  readonly tracing?: TracingSettings | undefined;
}

export interface RunningWorker {
  readonly worker: Worker;
  readonly close: () => Promise<void>;
}

/**
 * Flowgate's own node_modules. Workflow code outside the Flowgate folder (FLOWGATE_WORKER_WORKFLOWS) has
 * none of its own next to it; the bundler then finds @temporalio/workflow here.
 */
const FLOWGATE_NODE_MODULES = path.resolve(
  // Found through the package itself, so it holds from src/ (tsx) and from dist/src/ (compiled) alike.
  path.dirname(createRequire(import.meta.url).resolve("@temporalio/workflow/package.json")),
  "../..",
);

let runtimeInstalled = false;

/** Sends the Temporal SDK's own logs through pino (once per process). */
export function installWorkerLogging(log: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: sdkLogger(log),
    });
  } catch {
    // A process that also serves the API (a test) installed it for the API's native connection already.
  }
}

export async function createWorker(options: WorkerOptions): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({
    address: options.address,
    tls: options.tls,
    apiKey: options.apiKey,
    metadata: options.metadata === undefined ? undefined : { ...options.metadata },
  });
  const traced = options.tracing === undefined ? undefined : workerTracing(options.tracing);
  const close = async () => {
    await connection.close();
    await traced?.shutdown();
  };
  try {
    const worker = await Worker.create({
      plugins: traced === undefined ? [] : [traced.plugin],
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      workflowsPath: options.workflowsPath ?? SAMPLE_WORKFLOWS_PATH,
      activities: options.activities ?? (options.workflowsPath === undefined ? SAMPLE_ACTIVITIES : undefined),
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions,
      bundlerOptions: {
        webpackConfigHook: (config) => ({
          ...config,
          resolve: { ...config.resolve, modules: [...(config.resolve?.modules ?? ["node_modules"]), FLOWGATE_NODE_MODULES] },
        }),
      },
    });
    return { worker, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Runs `worker` until the returned stop: `onEnd` hears of it if it ends on its own first (a fatal error, its
 * connection lost), named `name` ("the worker stopped", "the worker failed: …"). Stopping lets running
 * tasks finish.
 */
export function runWorker(worker: Worker, name: string, onEnd: (reason: string) => void): () => Promise<void> {
  let stopping = false;
  const running = worker.run();
  void running.then(
    () => stopping || onEnd(`${name} stopped`),
    (err: unknown) => stopping || onEnd(`${name} failed: ${(err as Error).message}`),
  );
  return async () => {
    stopping = true;
    if (worker.getState() === "RUNNING") worker.shutdown();
    await running.catch(() => undefined);
  };
}
