// The application's handler hooks (credential tests, metadata, preflight checks), called by WorkflowService.
export { HANDLER_ERROR_TABLE, HandlerError, HandlerFailedError, MissingHookError } from "./errors.js";
export type { HandlerErrorCode, HookName } from "./errors.js";
export { HandlerHooks } from "./handler.js";
export type { AppHandler, HandlerCall, HookAnswer, HookResult } from "./handler.js";
export { HandlerModuleError, loadHandlerModule } from "./module.js";
