// Flowgate as a library: what an application imports. `createFlowgate` takes the application's workflows,
// activities, handler, triggers and config maps and runs the whole stack; the types name what each of those
// is. Typed clients of the contract are under "flowgate/gen/…".
export { createFlowgate } from "./flowgate.js";
export type { Flowgate, FlowgateContext, FlowgateOptions, Lifespan, WorkflowTypeInit } from "./flowgate.js";
export type { Config } from "./config.js";
export { ConfigNotFoundError, ConfigVersionMismatchError } from "./configs/index.js";
export type { ConfigPage, ConfigStore, ConfigWrite, StoredConfig } from "./configs/index.js";
export type { EventCondition, EventFilter, PublishedEvent, TriggerDefinition } from "./events/index.js";
export { LocalFileStore } from "./files/index.js";
export type { FileLimits, FileStore, StoredFile, UploadInfo } from "./files/index.js";
export { HandlerError } from "./handler/index.js";
export type { AppHandler, HandlerCall, HandlerErrorCode, HookResult } from "./handler/index.js";
export type { JsonSchema } from "./registry/index.js";
export type { Activities, Activity } from "./worker/index.js";
