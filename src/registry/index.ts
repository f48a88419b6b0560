// The workflow types the API may start, as metadata with JSON Schemas: from the workflow-types file, from
// code (the samples, later the library), or any type at all when the operator allows unregistered ones.
export { defineWorkflowType } from "./definition.js";
export type { HandlerDefinition, IdReusePolicy, JsonSchema, StartDefaults, WorkflowTypeDefinition } from "./definition.js";
export {
  InvalidInputError,
  REGISTRY_ERROR_TABLE,
  RegistrationError,
  UndeclaredHandlerError,
  UnknownWorkflowTypeError,
  WorkflowTypeNotFoundError,
} from "./errors.js";
export { loadWorkflowsFile, parseWorkflowsFile, parseWorkflowsFileSections, WorkflowsFileError } from "./file.js";
export type { FileTrigger, WorkflowsFile } from "./file.js";
export { WorkflowRegistry } from "./registry.js";
export type { HandlerKind, RegistryOptions } from "./registry.js";
