// The worker process (`npm run worker`, and the embedded worker `npm start` runs): the sample workflows and
// their activities, the user's workflows and activities (FLOWGATE_WORKER_WORKFLOWS,
// FLOWGATE_WORKER_ACTIVITIES), on the same Temporal connection settings as the API. It stops cleanly on
// SIGINT / SIGTERM (the Temporal runtime handles those signals and lets running tasks finish).
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, loadConfig } from "../config.js";
import { createLogger } from "../observability/index.js";
import { SAMPLE_ACTIVITIES } from "../samples/index.js";
import { workflowsEntry } from "./entry.js";
import { createWorker, installWorkerLogging } from "./worker.js";

type Activity = (...args: never[]) => unknown;

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
  const { worker, close } = await createWorker({ ...target, taskQueue: config.taskQueue, workflowsPath, activities });
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

/** The activities module's exported functions. */
async function loadActivities(file: string): Promise<Record<string, Activity>> {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const activities = Object.fromEntries(Object.entries(module).filter((e): e is [string, Activity] => typeof e[1] === "function"));
  if (Object.keys(activities).length === 0) throw new ConfigError(`FLOWGATE_WORKER_ACTIVITIES: "${file}" exports no functions`);
  return activities;
}

/**
 * The samples' activities beside the user's, when the samples run. A user activity named like a sample's is
 * refused rather than either one silently winning: the sample workflows would call the user's function with
 * arguments it does not expect, or the user's workflows would get the sample's.
 */
function withSampleActivities(samples: boolean, user: Record<string, Activity> | undefined): Record<string, Activity> | undefined {
  if (!samples) return user;
  const clash = Object.keys(user ?? {}).filter((name) => Object.hasOwn(SAMPLE_ACTIVITIES, name));
  if (clash.length > 0) {
    throw new ConfigError(
      `FLOWGATE_WORKER_ACTIVITIES: the samples have activities named ${clash.map((n) => `"${n}"`).join(", ")} too: rename yours, or set FLOWGATE_SAMPLES=false`,
    );
  }
  return { ...SAMPLE_ACTIVITIES, ...user };
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `flowgate worker: ${err.message}` : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
