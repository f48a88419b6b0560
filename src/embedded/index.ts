export { startDevServer } from "./dev-server.js";
export type { DevServer, DevServerOptions } from "./dev-server.js";
export { cachedCliPath, ensureTemporalCli, TEMPORAL_CLI_VERSION } from "./temporal-cli.js";
export { spawnWorkerProcess } from "./worker-process.js";
export type { WorkerProcess } from "./worker-process.js";
