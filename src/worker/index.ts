// Workers: the process that runs workflow code (src/samples, or the user's) against Temporal.
export { createWorker, installWorkerLogging, runWorker } from "./worker.js";
export type { RunningWorker } from "./worker.js";
export { loadActivities, withSampleActivities } from "./activities.js";
export type { Activities, Activity } from "./activities.js";
export { workflowsEntry } from "./entry.js";
