// What the samples' registration (types.ts), their workflow code (workflows.ts) and their activities share:
// the fruit list, the defaults and the decision schema. Plain data only, since workflow code imports it.
import type { JsonObject } from "@bufbuild/protobuf";

export const FRUITS = ["APPLE", "BANANA", "CHERRY", "ORANGE", "PEAR"] as const;
export type Fruit = (typeof FRUITS)[number];

export interface OrderLine {
  fruit: Fruit;
  amount: number;
}

export const SHOPPING_DEFAULT_ITEMS: readonly OrderLine[] = [{ fruit: "APPLE", amount: 5 }];
export const MAX_AMOUNT = 1000;

export const APPROVAL_DEFAULT_REQUEST = "a request";
export const APPROVAL_DEFAULT_TIMEOUT_SECONDS = 3600;
export const APPROVAL_MAX_TIMEOUT_SECONDS = 30 * 86_400;

export const REPORT_DEFAULT_STEPS = 5;
export const REPORT_MAX_STEPS = 50;
export const REPORT_DEFAULT_STEP_SECONDS = 1;
export const REPORT_MAX_STEP_SECONDS = 60;
/** The section whose first write fails, so every report run shows an activity retry. */
export const REPORT_FLAKY_SECTION = 2;

/** The approval sample's answer, sent as the "decision" signal or update. */
export const DECISION_SCHEMA: JsonObject = {
  type: "object",
  required: ["approved"],
  properties: {
    approved: { type: "boolean", description: "true to approve, false to reject" },
    comment: { type: "string", description: "why; required to reject" },
  },
  additionalProperties: false,
};
