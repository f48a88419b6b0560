// Completion callbacks: a start names a URL, a Temporal workflow delivers the run's outcome there.
export { CallbackAllowlist } from "./allowlist.js";
export { createCallbackActivities } from "./activities.js";
export type { CallbackDependencies } from "./activities.js";
export { CALLBACK_WORKFLOW_TYPE, callbackIdOf, CompletionCallbacks } from "./callbacks.js";
export type { CallbackSettings } from "./callbacks.js";
export { CALLBACKS_ERROR_TABLE, CallbacksOffError, InvalidCallbackError } from "./errors.js";
export { startCallbackWorker } from "./worker.js";
