// The workflow-types file: YAML (or JSON, which YAML reads as is) listing the types whose workers run
// anywhere, in any language. It is checked whole at start-up; each mistake is reported with the file, line
// and column, the path inside the file, and what is wrong, so a bad file stops start-up with a message a
// person can act on.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { LineCounter, parseDocument, type Document } from "yaml";
import { parseDurationText } from "../config.js";
import { defineWorkflowType, type HandlerDefinition, type IdReusePolicy, type JsonSchema, type WorkflowTypeDefinition } from "./definition.js";
import { RegistrationError } from "./errors.js";
import { compileSchema, formatPath, pointerToPath } from "./schema.js";

/** A workflow-types file that cannot be used; the message lists every problem found, one per line. */
export class WorkflowsFileError extends RegistrationError {
  override name = "WorkflowsFileError";
}

const NAME = { type: "string", minLength: 1, maxLength: 255 };
const SCHEMA = { type: ["object", "boolean"] };
// A positive duration: Temporal reads a zero timeout as "no timeout", which is what leaving it out says.
const DURATION = { type: "string", pattern: "^(?!0+(\\.0+)?(ms|s|m|h)$)\\d+(\\.\\d+)?(ms|s|m|h)$" };

const handler = (withResult: boolean) => ({
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: { name: NAME, description: { type: "string" }, input: SCHEMA, ...(withResult ? { result: SCHEMA } : {}) },
});

/** Keys starting with x- are the user's own (a block for YAML anchors, notes) and are ignored. */
const EXTENSIONS = { "^x-": {} };

const STRINGS = { type: "array", items: { type: "string", minLength: 1 } };

/** A trigger's condition: a path and exactly one test. */
const CONDITION = {
  type: "object",
  additionalProperties: false,
  required: ["path"],
  minProperties: 2,
  maxProperties: 2,
  properties: { path: { type: "string", minLength: 1 }, equals: true, in: { type: "array" }, exists: { type: "boolean" }, prefix: { type: "string" } },
};

/** The file's own shape. Unknown keys are refused, so a misspelt `singals:` is reported, not ignored. */
const FILE_SCHEMA = {
  type: "object",
  additionalProperties: false,
  patternProperties: EXTENSIONS,
  required: ["workflows"],
  properties: {
    workflows: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        patternProperties: EXTENSIONS,
        required: ["name"],
        properties: {
          name: NAME,
          description: { type: "string" },
          task_queue: { type: "string", minLength: 1, maxLength: 1000 },
          input: SCHEMA,
          result: SCHEMA,
          args: { enum: ["single", "spread"] },
          signals: { type: "array", items: handler(false) },
          queries: { type: "array", items: handler(true) },
          updates: { type: "array", items: handler(true) },
          defaults: {
            type: "object",
            additionalProperties: false,
            properties: {
              execution_timeout: DURATION,
              run_timeout: DURATION,
              task_timeout: DURATION,
              id_reuse_policy: { enum: ["allow_duplicate", "allow_duplicate_failed_only", "reject_duplicate"] },
            },
          },
        },
      },
    },
    triggers: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        patternProperties: EXTENSIONS,
        required: ["id", "workflow"],
        properties: {
          id: NAME,
          description: { type: "string" },
          workflow: NAME,
          task_queue: { type: "string", minLength: 1, maxLength: 1000 },
          types: STRINGS,
          topics: STRINGS,
          sources: STRINGS,
          conditions: { type: "array", items: CONDITION },
          input: { type: "string", minLength: 1 },
          pubsub: NAME,
        },
      },
    },
    config_maps: { type: "object", additionalProperties: { type: "object" } },
  },
};

// verbose: errors carry their schema, so an unknown key can be answered with the keys that are known.
const checkShape = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(FILE_SCHEMA);

type Step = string | number;

/**
 * An event trigger as the file lists it (`triggers:`), in the shape src/events registers (which checks its
 * workflow type and paths, naming the trigger).
 */
export interface FileTrigger {
  readonly id: string;
  readonly description?: string;
  readonly workflowType: string;
  readonly taskQueue?: string;
  readonly filter: {
    readonly types?: readonly string[];
    readonly topics?: readonly string[];
    readonly sources?: readonly string[];
    readonly conditions?: readonly ({ readonly path: string } & Record<string, JsonValue>)[];
  };
  readonly input?: string;
  readonly pubsubName?: string;
}

/** Everything the file declares: workflow types, event triggers, and config maps (forms) by id. */
export interface WorkflowsFile {
  readonly workflows: WorkflowTypeDefinition[];
  readonly triggers: FileTrigger[];
  readonly configMaps: Record<string, JsonObject>;
}

/** Reads and checks the file; throws WorkflowsFileError naming every problem, with its line. */
export async function loadWorkflowsFile(file: string): Promise<WorkflowsFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new WorkflowsFileError(`${displayName(file)}: cannot read the workflow-types file: ${(err as Error).message}`);
  }
  return parseWorkflowsFileSections(text, file);
}

/** The file's workflow types; `file` names it in messages. */
export function parseWorkflowsFile(text: string, file: string): WorkflowTypeDefinition[] {
  return parseWorkflowsFileSections(text, file).workflows;
}

/** Parses the file's text; `file` names it in messages. */
export function parseWorkflowsFileSections(text: string, file: string): WorkflowsFile {
  const shown = displayName(file);
  const lines = new LineCounter();
  // merge: YAML's `<<:` merge keys, so entries can share a block of defaults through an anchor.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${shown}:${line}:${col}: `;
  };
  if (doc.errors.length > 0) {
    throw new WorkflowsFileError(doc.errors.map((e) => `${at(e.pos[0])}${e.message.split("\n")[0]}`).join("\n"));
  }
  const where = (steps: readonly Step[], options: { key?: boolean } = {}) =>
    `${at(offsetOf(doc, steps, options.key ?? false))}${steps.length > 0 ? `${formatPath(steps)}: ` : ""}`;

  let data: unknown;
  try {
    // An alias without its anchor, or one that expands beyond reason, fails only here.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new WorkflowsFileError(`${shown}: ${(err as Error).message}`);
  }
  if (!checkShape(data)) {
    // In the order they appear in the file, so the first line is the first thing to fix.
    const errors = (checkShape.errors ?? []).map((e) => describeShapeError(e, data, where));
    throw new WorkflowsFileError(errors.sort(byPosition).join("\n"));
  }
  const problems: string[] = [];
  const lineOf = (steps: readonly Step[]) => lines.linePos(offsetOf(doc, steps, false)).line;
  const types = (data as { workflows: JsonObject[] }).workflows.map((entry, i) => toDefinition(entry, ["workflows", i], shown, where, lineOf, problems));
  const seen = new Map<string, number>();
  types.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined) problems.push(`${where(["workflows", i, "name"])}"${t.name}" is already listed at workflows[${first}]`);
    else seen.set(t.name, i);
  });
  if (problems.length > 0) throw new WorkflowsFileError(problems.join("\n"));
  const file_ = data as { triggers?: JsonObject[]; config_maps?: Record<string, JsonObject> };
  return { workflows: types, triggers: (file_.triggers ?? []).map(toTrigger), configMaps: file_.config_maps ?? {} };
}

function toTrigger(entry: JsonObject): FileTrigger {
  const strings = (key: string) => entry[key] as string[] | undefined;
  return {
    id: entry.id as string,
    description: entry.description as string | undefined,
    workflowType: entry.workflow as string,
    taskQueue: entry.task_queue as string | undefined,
    filter: {
      types: strings("types"),
      topics: strings("topics"),
      sources: strings("sources"),
      conditions: entry.conditions as FileTrigger["filter"]["conditions"],
    },
    input: entry.input as string | undefined,
    pubsubName: entry.pubsub as string | undefined,
  };
}

function toDefinition(
  entry: JsonObject,
  at: readonly Step[],
  shown: string,
  where: (steps: readonly Step[]) => string,
  lineOf: (steps: readonly Step[]) => number,
  problems: string[],
): WorkflowTypeDefinition {
  /** A JSON Schema of the entry, compiled now so a bad one is reported here, with its line. */
  const schema = (value: JsonValue | undefined, steps: readonly Step[]): JsonSchema | undefined => {
    if (value === undefined) return undefined;
    try {
      compileSchema(value as JsonSchema);
    } catch (err) {
      problems.push(`${where(steps)}not a valid JSON Schema: ${(err as Error).message}`);
    }
    return value as JsonSchema;
  };
  const handlers = (kind: "signals" | "queries" | "updates"): HandlerDefinition[] =>
    ((entry[kind] as JsonObject[] | undefined) ?? []).map((h, i) => ({
      name: h.name as string,
      description: (h.description as string | undefined) ?? "",
      input: schema(h.input, [...at, kind, i, "input"]),
      result: schema(h.result, [...at, kind, i, "result"]),
    }));
  const defaults = (entry.defaults as Record<string, string> | undefined) ?? {};
  return defineWorkflowType({
    name: entry.name as string,
    description: (entry.description as string | undefined) ?? "",
    taskQueue: entry.task_queue as string | undefined,
    input: schema(entry.input, [...at, "input"]),
    result: schema(entry.result, [...at, "result"]),
    args: (entry.args as "single" | "spread" | undefined) ?? "single",
    signals: handlers("signals"),
    queries: handlers("queries"),
    updates: handlers("updates"),
    defaults: {
      executionTimeoutMs: durationOf(defaults.execution_timeout),
      runTimeoutMs: durationOf(defaults.run_timeout),
      taskTimeoutMs: durationOf(defaults.task_timeout),
      idReusePolicy: defaults.id_reuse_policy?.toUpperCase() as IdReusePolicy | undefined,
    },
    source: `${shown}:${lineOf(at)}`,
  });
}

function durationOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDurationText(text);
}

/** Orders "file:line:col: ..." messages by line, then column. */
function byPosition(a: string, b: string): number {
  const pos = (m: string) => /:(\d+):(\d+): /.exec(m)?.slice(1).map(Number) ?? [0, 0];
  const [la, ca] = pos(a);
  const [lb, cb] = pos(b);
  return la! - lb! || ca! - cb!;
}

/** One shape error as "file:line:col: path: problem". */
function describeShapeError(error: ErrorObject, data: unknown, where: (steps: readonly Step[], options?: { key?: boolean }) => string): string {
  const steps = pointerToPath(error.instancePath, data);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return `${where(steps)}"${String(params.missingProperty)}" is required`;
    case "additionalProperties":
      return `${where([...steps, String(params.additionalProperty)], { key: true })}unknown key; ${steps.length === 0 ? "the file holds" : "this holds"} ${describeKeys(error.parentSchema)}`;
    case "enum":
      return `${where(steps)}must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "pattern":
      return `${where(steps)}must be a duration longer than zero, such as 30s, 5m, 1h or 1500ms`;
    default:
      return `${where(steps)}${error.message ?? `fails "${error.keyword}"`}`;
  }
}

function describeKeys(schema: unknown): string {
  const keys = Object.keys((schema as { properties?: object } | undefined)?.properties ?? {});
  return keys.length > 0 ? keys.join(", ") : "no keys";
}

/** Where in the text the value at `steps` starts, or its key (for a key that is itself the problem). */
function offsetOf(doc: Document, steps: readonly Step[], key: boolean): number {
  if (key && steps.length > 0) {
    const parent = doc.getIn(steps.slice(0, -1), true) as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] } | undefined;
    const found = parent?.items?.find((p) => p.key?.value === steps.at(-1))?.key?.range;
    if (found !== undefined) return found[0];
  }
  for (let n = steps.length; n >= 0; n--) {
    const node = doc.getIn(steps.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range === undefined) {
      // The last step may name a key whose value is missing or is the problem: point at the key.
      const parent = doc.getIn(steps.slice(0, n - 1), true) as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] } | undefined;
      const key = parent?.items?.find((p) => p.key?.value === steps[n - 1])?.key;
      if (key?.range !== undefined) return key.range[0];
      continue;
    }
    return node.range[0];
  }
  return 0;
}

/** The file as the user named it: relative to the working folder when inside it. */
function displayName(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}
