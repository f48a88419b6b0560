// One file per proto service: thin handlers, proto in -> domain call -> proto out.
export { createWorkflowService } from "./workflow-service.js";
export type { WorkflowServiceDeps } from "./workflow-service.js";
