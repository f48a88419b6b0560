// The worker process (`npm run worker`, and the embedded worker `npm start` runs): the sample workflows and
// their activities, the user's workflows and activities (FLOWGATE_WORKER_WORKFLOWS,
// FLOWGATE_WORKER_ACTIVITIES), on the same Temporal connection settings as the API. It stops cleanly on
// SIGINT / SIGTERM (the Temporal runtime handles those signals and lets running tasks finish).
import path from "node:path";
import { ConfigError, loadConfig } from "../config.js";
import { createLogger } from "../observability/index.js";
import { loadActivities, withSampleActivities } from "./activities.js";
import { workflowsEntry } from "./entry.js";
import { createWorker, installWorkerLogging } from "./worker.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config, "flowgate-worker");
  installWorkerLogging(log);
  const target = config.temporal ?? { address: `127.0.0.1:${config.devServerPort}`, namespace: config.temporalNamespace };
  const workflowsPath = await workflowsEntry({
    samples: config.samples,
    userWorkflows: config.workerWorkflows,
    dir: path.join(config.dataDir, "worker"),
  });
  if (workflowsPath === undefined) {
    throw new ConfigError("the worker has no workflows to run: set FLOWGATE_WORKER_WORKFLOWS, or FLOWGATE_SAMPLES=true");
  }
  const userActivities = config.workerActivities === undefined ? undefined : await loadActivities(config.workerActivities);
  const activities = withSampleActivities(config.samples, userActivities);
  const { worker, close } = await createWorker({ ...target, taskQueue: config.taskQueue, workflowsPath, activities, tracing: config.tracing });
  log.info(
    {
      address: target.address,
      namespace: target.namespace,
      taskQueue: config.taskQueue,
      samples: config.samples,
      workflows: config.workerWorkflows,
      activities: activities === undefined ? undefined : Object.keys(activities),
    },
    "worker polling",
  );
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
