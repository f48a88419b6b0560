export { createWorker, installWorkerLogging, SAMPLE_WORKFLOWS_PATH } from "./worker.js";
export type { RunningWorker, WorkerOptions } from "./worker.js";
