// `npm run worker`: a worker process for the sample workflows. It stops cleanly on SIGINT / SIGTERM
// (the Temporal runtime handles those signals and lets running tasks finish).
import { ConfigError, loadConfig } from "../config.js";
import { createLogger } from "../observability/index.js";
import { createWorker, installWorkerLogging } from "./worker.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config, "flowgate-worker");
  installWorkerLogging(log);
  const address = config.temporalAddress ?? `127.0.0.1:${config.devServerPort}`;
  const { worker, close } = await createWorker({ address, namespace: config.temporalNamespace, taskQueue: config.taskQueue });
  log.info({ address, namespace: config.temporalNamespace, taskQueue: config.taskQueue }, "worker polling");
  try {
    await worker.run();
  } finally {
    await close();
    log.info("worker stopped");
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `flowgate worker: ${err.message}` : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
