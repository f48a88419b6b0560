// The sample workflows as the API knows them: registered in code, for the embedded worker that runs them.
import { defineWorkflowType, type WorkflowTypeDefinition } from "../registry/index.js";

export const SAMPLE_WORKFLOW_TYPES: readonly WorkflowTypeDefinition[] = [
  defineWorkflowType({
    name: "greet",
    description: 'Greets someone: {"name": "Ada"} -> {"greeting": "Hello, Ada!"}.',
    source: "sample",
  }),
  defineWorkflowType({
    name: "sleep",
    description: 'Sleeps on a durable timer, then reports it: {"seconds": 5} -> {"slept_seconds": 5}.',
    source: "sample",
  }),
];
