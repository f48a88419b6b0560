// JSON Schema validation of workflow inputs, with ajv: draft 2020-12, or draft-07 for a schema whose
// `$schema` says so. Strict mode is on, so a misspelt keyword stops start-up instead of silently allowing
// everything; failures come back as violations that name the path in the input.
import { Ajv, type Options } from "ajv";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
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

const OPTIONS: Options = {
  allErrors: true,
  strict: true,
  // These strict checks reject schemas that are valid and common (type unions, open tuples).
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allowUnionTypes: true,
  // JSON Schema patterns are ECMA-262 regexes; with the u flag, common escapes such as \- are refused.
  unicodeRegExp: false,
  // A schema's $id is not registered in the shared instance, so two types' schemas never clash over one or
  // reach into each other through $ref.
  addUsedSchema: false,
};

/** One ajv per dialect, made on first use (each costs a few milliseconds with its formats). */
const instances: { draft07?: Ajv; draft2020?: Ajv2020 } = {};

function ajvFor(draft07: boolean): Ajv | Ajv2020 {
  const made = draft07 ? (instances.draft07 ??= new Ajv(OPTIONS)) : (instances.draft2020 ??= new Ajv2020(OPTIONS));
  if (!(made as { formatsAdded?: boolean }).formatsAdded) {
    addFormatsModule.default(made);
    (made as { formatsAdded?: boolean }).formatsAdded = true;
  }
  return made;
}

/** Compiled validators by schema, so a schema checked by the file loader is not compiled again. */
const compiled = new WeakMap<object, Validator>();

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const DRAFT_2020_12 = /^https:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;

/** At most this many violations are reported for one value; the first ones are the most useful. */
const MAX_VIOLATIONS = 10;

/** Compiles a schema; throws with ajv's explanation when the schema itself is wrong. */
export function compileSchema(schema: JsonSchema): Validator {
  const cached = typeof schema === "object" ? compiled.get(schema) : undefined;
  if (cached !== undefined) return cached;
  const dialect = typeof schema === "object" ? schema.$schema : undefined;
  if (dialect !== undefined && (typeof dialect !== "string" || !(DRAFT_07.test(dialect) || DRAFT_2020_12.test(dialect)))) {
    throw new Error(`$schema ${JSON.stringify(dialect)} is not supported: use draft 2020-12 (the default) or draft-07`);
  }
  const ajv = ajvFor(typeof dialect === "string" && DRAFT_07.test(dialect));
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    // In strict mode an unknown format stops compilation, though ajv's message says it is "ignored".
    throw new Error((err as Error).message.replace(/ ignored in schema at path/, " in schema at path"));
  }
  const validator: Validator = (value, root) => {
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, MAX_VIOLATIONS).map((e) => toViolation(e, value, root));
  };
  if (typeof schema === "object") compiled.set(schema, validator);
  return validator;
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
export function pointerToPath(pointer: string, value: unknown): (string | number)[] {
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
