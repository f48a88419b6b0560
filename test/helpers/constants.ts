import { defineWorkflowType, type WorkflowTypeDefinition } from "../../src/registry/index.js";
import { SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";

export const TEST_NAMESPACE = "default";
/** The test worker's own queue, so nothing else picks up test workflows. */
export const TEST_TASK_QUEUE = "flowgate-test";

export const TEST_WORKFLOWS: readonly WorkflowTypeDefinition[] = [
  ...SAMPLE_WORKFLOW_TYPES,
  defineWorkflowType({ name: "fail", description: "Fails with the given message." }),
  defineWorkflowType({ name: "add", description: "Adds two numbers given as a JSON array.", args: "spread" }),
  defineWorkflowType({ name: "chain", description: "Continues as new a few times, then completes." }),
];
