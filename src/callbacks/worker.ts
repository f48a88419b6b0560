// Flowgate's own worker for completion callbacks: the delivery workflow and its activities, on the callback
// task queue, in the API's process (the activities use its engine and database).
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { TemporalTarget } from "../temporal/index.js";
import { createWorker, runWorker } from "../worker/index.js";
import { createCallbackActivities, type CallbackDependencies } from "./activities.js";

/** workflow.ts from source, workflow.js once compiled to dist/. */
const CALLBACK_WORKFLOWS_PATH = fileURLToPath(new URL(`./workflow${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/**
 * Each delivery waiting for its run holds an activity slot while it waits (up to a minute at a time), so
 * the worker allows many: more open callbacks than this delay deliveries by up to a minute each round.
 */
const WAITING_DELIVERIES = 1000;
const RETRY_CONNECT_MS = 5000;

/**
 * Starts polling in the background: while Temporal cannot be reached, it tries again every 5 s (the API
 * serves meanwhile, as it does when it starts before Temporal). `onLost` is called if the worker stops on
 * its own once running. `close` stops it, letting running activities finish.
 */
export function startCallbackWorker(
  target: TemporalTarget,
  taskQueue: string,
  deps: CallbackDependencies & { readonly logger: Logger },
  onLost: (reason: string) => void,
): { close(): Promise<void> } {
  let closing = false;
  let running: { stop: () => Promise<void>; close: () => Promise<void> } | undefined;
  let retry: NodeJS.Timeout | undefined;
  let wakeRetry: (() => void) | undefined;

  const start = async () => {
    while (!closing) {
      try {
        const { worker, close } = await createWorker({
          ...target,
          taskQueue,
          workflowsPath: CALLBACK_WORKFLOWS_PATH,
          activities: createCallbackActivities(deps),
          maxConcurrentActivityTaskExecutions: WAITING_DELIVERIES,
        });
        if (closing) {
          await close();
          return;
        }
        running = { stop: runWorker(worker, "the callback worker", onLost), close };
        return;
      } catch (err) {
        deps.logger.warn({ err, retryInMs: RETRY_CONNECT_MS }, "the callback worker cannot start yet; deliveries wait in Temporal meanwhile");
        await new Promise<void>((resolve) => {
          wakeRetry = resolve;
          retry = setTimeout(resolve, RETRY_CONNECT_MS);
        });
      }
    }
  };
  const started = start();

  return {
    async close() {
      closing = true;
      clearTimeout(retry);
      wakeRetry?.();
      await started;
      if (running === undefined) return;
      await running.stop();
      await running.close();
    },
  };
}
