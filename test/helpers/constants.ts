import type { WorkflowTypeInfo } from "../../src/registry/index.js";
import { SAMPLE_WORKFLOWS } from "../../src/registry/index.js";

export const TEST_NAMESPACE = "default";
/** The test worker's own queue, so nothing else picks up test workflows. */
export const TEST_TASK_QUEUE = "flowgate-test";

export const TEST_WORKFLOWS: readonly WorkflowTypeInfo[] = [
  ...SAMPLE_WORKFLOWS,
  { name: "fail", description: "Fails with the given message." },
  { name: "add", description: "Adds two numbers given as a JSON array.", spreadArgs: true },
  { name: "chain", description: "Continues as new a few times, then completes." },
];
