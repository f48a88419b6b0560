// Workers: the process that runs workflow code (src/samples, or the user's) against Temporal.
export { createWorker, installWorkerLogging } from "./worker.js";
export type { RunningWorker } from "./worker.js";
