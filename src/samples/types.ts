// The sample workflows as the API knows them: registered in code, with the JSON Schemas that let the API
// refuse a bad input before it reaches Temporal.
import type { JsonObject } from "@bufbuild/protobuf";
import type { TriggerDefinition } from "../events/index.js";
import { defineWorkflowType, type WorkflowTypeDefinition } from "../registry/index.js";
import {
  APPROVAL_DEFAULT_REQUEST,
  APPROVAL_DEFAULT_TIMEOUT_SECONDS,
  APPROVAL_MAX_TIMEOUT_SECONDS,
  DECISION_SCHEMA,
  FRUITS,
  MAX_AMOUNT,
  REPORT_DEFAULT_STEP_SECONDS,
  REPORT_DEFAULT_STEPS,
  REPORT_MAX_STEP_SECONDS,
  REPORT_MAX_STEPS,
  SHOPPING_DEFAULT_ITEMS,
} from "./schemas.js";

// The approval sample's answer: what the "decision" update returns, and what its run returns.
const DECISION_RESULT: JsonObject = {
  ...DECISION_SCHEMA,
  required: ["approved", "decided_by"],
  properties: {
    ...(DECISION_SCHEMA.properties as JsonObject),
    decided_by: { enum: ["signal", "update", "timeout"], description: "how the decision came; timeout: nobody decided in time" },
  },
};

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
  defineWorkflowType({
    name: "shopping",
    description:
      'Prices a basket of fruit and orders it, reporting progress: {"items": [{"fruit": "APPLE", "amount": 5}]} (the default) -> "Ordered 5 Apples for $4.95".',
    input: {
      type: "object",
      properties: {
        items: {
          type: "array",
          description: "what to buy",
          minItems: 1,
          maxItems: 20,
          items: {
            type: "object",
            required: ["fruit", "amount"],
            properties: {
              fruit: { type: "string", enum: [...FRUITS] },
              amount: { type: "integer", minimum: 1, maximum: MAX_AMOUNT },
            },
            additionalProperties: false,
          },
          default: SHOPPING_DEFAULT_ITEMS.map((item) => ({ ...item })),
        },
      },
      additionalProperties: false,
    },
    result: { type: "string", description: 'what was ordered, for how much: "Ordered 5 Apples for $4.95"' },
    source: "sample",
  }),
  defineWorkflowType({
    name: "approval",
    description:
      `Waits for a person to approve or reject a request, by the "decision" signal or update ({"approved": false} needs a "comment"); ` +
      `no decision within timeout_seconds is a rejection. Defaults: {"request": "${APPROVAL_DEFAULT_REQUEST}", "timeout_seconds": ${APPROVAL_DEFAULT_TIMEOUT_SECONDS}}.`,
    input: {
      type: "object",
      properties: {
        request: { type: "string", description: "what to approve", default: APPROVAL_DEFAULT_REQUEST },
        timeout_seconds: {
          type: "number",
          minimum: 1,
          maximum: APPROVAL_MAX_TIMEOUT_SECONDS,
          description: "how long to wait for a decision (at most 30 days)",
          default: APPROVAL_DEFAULT_TIMEOUT_SECONDS,
        },
      },
      additionalProperties: false,
    },
    result: DECISION_RESULT,
    signals: [{ name: "decision", description: "Approves or rejects; a refused decision is ignored.", input: DECISION_SCHEMA, result: undefined }],
    updates: [
      {
        name: "decision",
        description: "Approves or rejects, and returns the decision taken; a rejection without a comment is refused.",
        input: DECISION_SCHEMA,
        result: DECISION_SCHEMA,
      },
    ],
    queries: [
      {
        name: "state",
        description: "Where the request stands.",
        input: undefined,
        result: {
          type: "object",
          required: ["status", "request"],
          properties: {
            status: { enum: ["waiting", "approved", "rejected", "timed_out"] },
            request: { type: "string" },
            comment: { type: "string" },
          },
        },
      },
    ],
    source: "sample",
  }),
  defineWorkflowType({
    name: "report",
    description:
      "Writes a report section by section, reporting progress, with a durable pause between sections; section 2's first write fails " +
      `and is retried. Defaults: {"steps": ${REPORT_DEFAULT_STEPS}, "step_seconds": ${REPORT_DEFAULT_STEP_SECONDS}} -> {"sections": ["Section 1 of 5", ...], "steps": 5}.`,
    input: {
      type: "object",
      properties: {
        steps: { type: "integer", minimum: 1, maximum: REPORT_MAX_STEPS, description: "how many sections", default: REPORT_DEFAULT_STEPS },
        step_seconds: {
          type: "number",
          minimum: 0,
          maximum: REPORT_MAX_STEP_SECONDS,
          description: "pause between sections, on a durable timer",
          default: REPORT_DEFAULT_STEP_SECONDS,
        },
      },
      additionalProperties: false,
    },
    result: {
      type: "object",
      required: ["sections", "steps"],
      properties: { sections: { type: "array", items: { type: "string" } }, steps: { type: "integer" } },
    },
    source: "sample",
  }),
];

/**
 * The sample trigger, so the events path can be tried at once: an event of type `flowgate.sample.greet`
 * starts `greet` with the event's data as input.
 */
export const SAMPLE_TRIGGERS: readonly TriggerDefinition[] = [
  {
    id: "sample-greet",
    description: 'Events of type "flowgate.sample.greet" start greet with the event\'s data ({"name": "Ada"}) as input.',
    workflowType: "greet",
    filter: { types: ["flowgate.sample.greet"] },
  },
];

/** The sample config map: the form a UI renders to configure `greet` runs, as a JSON Schema with UI hints. */
export const SAMPLE_CONFIG_MAPS: Readonly<Record<string, JsonObject>> = {
  greet: {
    title: "Greeting",
    type: "object",
    required: ["name"],
    properties: {
      name: { type: "string", title: "Who to greet", minLength: 1, "ui:placeholder": "Ada" },
      punctuation: { type: "string", title: "Ending", enum: ["!", "."], default: "!" },
    },
  },
};
