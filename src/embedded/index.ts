export { startDevServer } from "./dev-server.js";
export { assertPortFree, PortTakenError } from "./ports.js";
export type { DevServer, DevServerOptions } from "./dev-server.js";
export { cachedCliPath, ensureTemporalCli, TEMPORAL_CLI_VERSION } from "./temporal-cli.js";
export { spawnWorkerProcess } from "./worker-process.js";
export type { WorkerProcess } from "./worker-process.js";
