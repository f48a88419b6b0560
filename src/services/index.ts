// One file per proto service: thin handlers, proto in -> domain call -> proto out. `createServices` is the
// one list of what the port serves: adding a service means adding its line here.
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import type { WorkflowOperations } from "../operations/index.js";
import { serve, type ServedService } from "../server/index.js";
import { createWorkflowService } from "./workflow-service.js";

export interface ServiceDeps {
  readonly workflows: WorkflowOperations;
}

/** The application services, in the order `grpcurl list` shows them. */
export function createServices(deps: ServiceDeps): ServedService[] {
  return [serve(WorkflowService, createWorkflowService(deps.workflows))];
}
