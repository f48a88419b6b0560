// One file per proto service: thin handlers, proto in -> domain call -> proto out. `createServices` is the
// one list of what the port serves: adding a service means adding its line here.
import { ConfigService } from "../../gen/flowgate/config/v1/config_service_pb.js";
import { EventsService } from "../../gen/flowgate/events/v1/events_service_pb.js";
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import type { CompletionCallbacks } from "../callbacks/index.js";
import type { ConfigMaps, ConfigStore } from "../configs/index.js";
import type { EventTriggers } from "../events/index.js";
import type { FileStore } from "../files/index.js";
import type { HandlerHooks } from "../handler/index.js";
import type { WorkflowOperations } from "../operations/index.js";
import { serve, type ServedService } from "../server/index.js";
import { createConfigService } from "./config-service.js";
import { createEventsService } from "./events-service.js";
import { createWorkflowService } from "./workflow-service.js";

export { uploadRoute } from "./upload-route.js";

export interface ServiceDeps {
  readonly workflows: WorkflowOperations;
  readonly triggers: EventTriggers;
  readonly configs: ConfigStore;
  readonly configMaps: ConfigMaps;
  readonly hooks: HandlerHooks;
  readonly files: FileStore;
  readonly callbacks: CompletionCallbacks;
}

/** The application services' descriptors: what the contract declares (its scopes, for the auth configuration). */
export const SERVICE_DESCRIPTORS = [WorkflowService, EventsService, ConfigService] as const;

/** The application services, in the order `grpcurl list` shows them. */
export function createServices(deps: ServiceDeps): ServedService[] {
  return [
    serve(WorkflowService, createWorkflowService(deps.workflows, deps.hooks, deps.files, deps.callbacks)),
    serve(EventsService, createEventsService(deps.triggers)),
    serve(ConfigService, createConfigService(deps.configs, deps.configMaps)),
  ];
}
