// Flowgate's TypeScript client, exported as `flowgate/client`: it works in Node and in browsers (see client.ts).
export { createFlowgateClient, credentials, WorkflowRun, WorkflowRunError } from "./client.js";
export type { FlowgateClient, FlowgateClientOptions, RunOutcome, StartWorkflowOptions, WatchOptions } from "./client.js";
export { WorkflowEventType, WorkflowStatus } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
export type { WatchWorkflowResponse } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
