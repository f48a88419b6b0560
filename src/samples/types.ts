// The sample workflows as the API knows them: registered in code, with the JSON Schemas that let the API
// refuse a bad input before it reaches Temporal.
import { defineWorkflowType, type WorkflowTypeDefinition } from "../registry/index.js";

export const SAMPLE_WORKFLOW_TYPES: readonly WorkflowTypeDefinition[] = [
  defineWorkflowType({
    name: "greet",
    description: 'Greets someone: {"name": "Ada"} -> {"greeting": "Hello, Ada!"}.',
    input: {
      type: "object",
      required: ["name"],
      properties: { name: { type: "string", minLength: 1, description: "who to greet" } },
      additionalProperties: false,
    },
    result: { type: "object", required: ["greeting"], properties: { greeting: { type: "string" } } },
    source: "sample",
  }),
  defineWorkflowType({
    name: "sleep",
    description: 'Sleeps on a durable timer, then reports it: {"seconds": 5} -> {"slept_seconds": 5}.',
    input: {
      type: "object",
      required: ["seconds"],
      properties: { seconds: { type: "number", minimum: 0, maximum: 86_400, description: "how long to sleep" } },
      additionalProperties: false,
    },
    result: { type: "object", required: ["slept_seconds"], properties: { slept_seconds: { type: "number" } } },
    source: "sample",
  }),
];
