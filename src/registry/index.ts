// Workflow types the API accepts, as metadata: the API never loads workflow code (that is src/workflows,
// bundled by the worker).
export { SAMPLE_WORKFLOWS } from "./catalog.js";
export type { WorkflowTypeInfo } from "./catalog.js";
export { WorkflowRegistry } from "./registry.js";
