// JSON Schema validation of workflow inputs, with ajv (draft 2020-12; schemas that declare draft-07 are
// accepted too). Strict mode is on, so a misspelt keyword stops start-up instead of silently allowing
// everything; failures come back as violations that name the path in the input.
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import draft7MetaSchema from "ajv/dist/refs/json-schema-draft-07.json" with { type: "json" };
import type { JsonSchema } from "./definition.js";

/** One way a value fails its schema. */
export interface Violation {
  /** Path from the request field, such as ["input", "items", 2, "quantity"]. */
  readonly path: readonly (string | number)[];
  /** The JSON Schema keyword that failed, such as "minimum" or "required". */
  readonly keyword: string;
  /** What is wrong, for people: "must be >= 1". */
  readonly message: string;
}

/** Checks a value; returns its violations (empty when valid). */
export type Validator = (value: unknown, root: string) => Violation[];

const ajv = new Ajv2020({
  allErrors: true,
  strict: true,
  // These strict checks reject schemas that are valid and common (type unions, open tuples).
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allowUnionTypes: true,
});
addFormatsModule.default(ajv);
ajv.addMetaSchema(draft7MetaSchema);

/** At most this many violations are reported for one value; the first ones are the most useful. */
const MAX_VIOLATIONS = 10;

/** Compiles a schema; throws with ajv's explanation when the schema itself is wrong. */
export function compileSchema(schema: JsonSchema): Validator {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value, root) => {
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, MAX_VIOLATIONS).map((e) => toViolation(e, value, root));
  };
}

function toViolation(error: ErrorObject, value: unknown, root: string): Violation {
  const path: (string | number)[] = [root, ...pointerToPath(error.instancePath, value)];
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { path: [...path, String(params.missingProperty)], keyword: "required", message: "is required" };
    case "additionalProperties":
      return { path: [...path, String(params.additionalProperty)], keyword: "additionalProperties", message: "is not allowed" };
    case "unevaluatedProperties":
      return { path: [...path, String(params.unevaluatedProperty)], keyword: "unevaluatedProperties", message: "is not allowed" };
    case "enum":
      return { path, keyword: "enum", message: `must be one of ${JSON.stringify(params.allowedValues)}` };
    default:
      return { path, keyword: error.keyword, message: error.message ?? `fails "${error.keyword}"` };
  }
}

/** A JSON Pointer into `value` as path steps: numbers for array items, strings for object keys. */
function pointerToPath(pointer: string, value: unknown): (string | number)[] {
  if (pointer === "") return [];
  const steps: (string | number)[] = [];
  let current: unknown = value;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(current)) {
      const index = Number(token);
      steps.push(index);
      current = current[index];
    } else {
      steps.push(token);
      current = current !== null && typeof current === "object" ? (current as Record<string, unknown>)[token] : undefined;
    }
  }
  return steps;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A path as people write it: input.items[2].quantity, input["odd key"]. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const step of path) {
    if (typeof step === "number") out += `[${step}]`;
    else if (out === "") out = step;
    else out += IDENT.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  }
  return out;
}
