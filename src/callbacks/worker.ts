// Flowgate's own worker for completion callbacks: the delivery workflow and its activities, on the callback
// task queue, in the API's process (the activities use its engine and database).
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TemporalTarget } from "../temporal/index.js";
import { createWorker } from "../worker/index.js";
import { createCallbackActivities, type CallbackDependencies } from "./activities.js";

/** workflow.ts from source, workflow.js once compiled to dist/. */
export const CALLBACK_WORKFLOWS_PATH = fileURLToPath(new URL(`./workflow${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/**
 * Each delivery waiting for its run holds an activity slot while it waits (up to a minute at a time), so
 * the worker allows many: more open callbacks than this delay deliveries by up to a minute each round.
 */
const WAITING_DELIVERIES = 1000;

/** Starts polling; resolves once the worker runs. `close` stops it, letting running activities finish. */
export async function startCallbackWorker(
  target: TemporalTarget,
  taskQueue: string,
  deps: CallbackDependencies,
  onLost: (reason: string) => void,
): Promise<{ close(): Promise<void> }> {
  const { worker, close } = await createWorker({
    ...target,
    taskQueue,
    workflowsPath: CALLBACK_WORKFLOWS_PATH,
    activities: createCallbackActivities(deps),
    maxConcurrentActivityTaskExecutions: WAITING_DELIVERIES,
  });
  let closing = false;
  const running = worker.run();
  void running.then(
    () => closing || onLost("the callback worker stopped"),
    (err: unknown) => closing || onLost(`the callback worker failed: ${(err as Error).message}`),
  );
  return {
    async close() {
      closing = true;
      if (worker.getState() === "RUNNING") worker.shutdown();
      await running.catch(() => undefined);
      await close();
    },
  };
}
