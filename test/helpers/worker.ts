// A real worker inside a test, its SDK logs sent through pino at the test log level (errors only by default).
import { pino } from "pino";
import { createWorker, installWorkerLogging } from "../../src/worker/index.js";

type WorkerOptions = Parameters<typeof createWorker>[0];

export interface TestWorker {
  /** Shuts the worker down and waits for it. */
  close(): Promise<void>;
}

export async function startTestWorker(options: WorkerOptions): Promise<TestWorker> {
  installWorkerLogging(pino({ level: process.env.FLOWGATE_TEST_LOG_LEVEL ?? "error" }));
  const { worker, close } = await createWorker(options);
  const running = worker.run().catch((err: unknown) => {
    console.error(`the test worker on ${options.taskQueue} stopped:`, err);
  });
  return {
    async close() {
      if (worker.getState() === "RUNNING") worker.shutdown();
      await running;
      await close();
    },
  };
}
