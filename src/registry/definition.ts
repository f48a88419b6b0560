// What the API knows about a workflow type it may start. Workers run the code, in any language and
// anywhere; the API needs only this metadata, so it never loads workflow code.
import type { JsonObject } from "@bufbuild/protobuf";

/** A JSON Schema (draft 2020-12): an object, or `true` / `false`. */
export type JsonSchema = JsonObject | boolean;

/** Temporal's workflow id reuse policies: what a start may do with an id whose last run closed. */
export type IdReusePolicy = "ALLOW_DUPLICATE" | "ALLOW_DUPLICATE_FAILED_ONLY" | "REJECT_DUPLICATE";

/** A signal, query or update a workflow type accepts. */
export interface HandlerDefinition {
  readonly name: string;
  readonly description: string;
  /** Schema of its argument; absent: any JSON. */
  readonly input: JsonSchema | undefined;
  /** Schema of its result (queries and updates); absent: any JSON. */
  readonly result: JsonSchema | undefined;
}

/** Defaults a start of this type gets unless the request sets its own. */
export interface StartDefaults {
  readonly executionTimeoutMs: number | undefined;
  readonly runTimeoutMs: number | undefined;
  readonly taskTimeoutMs: number | undefined;
  readonly idReusePolicy: IdReusePolicy | undefined;
}

export interface WorkflowTypeDefinition {
  /** Temporal workflow type name, as clients spell it in `workflow_type`. */
  readonly name: string;
  /** What it does, for people and for ListWorkflowTypes. */
  readonly description: string;
  /** Task queue its workers poll; the server's default queue when absent. */
  readonly taskQueue: string | undefined;
  /** Schema of `input`; absent: any JSON. */
  readonly input: JsonSchema | undefined;
  /** Schema of the result; absent: any JSON. */
  readonly result: JsonSchema | undefined;
  /**
   * "spread": the workflow takes several arguments, and `input` must be a JSON array whose items are passed
   * as the arguments. "single" (the default): `input` is passed as the one argument.
   */
  readonly args: "single" | "spread";
  readonly signals: readonly HandlerDefinition[];
  readonly queries: readonly HandlerDefinition[];
  readonly updates: readonly HandlerDefinition[];
  readonly defaults: StartDefaults;
  /** Where it was registered, for messages: "sample", "code", or "<file>:<line>". */
  readonly source: string;
}

const NO_DEFAULTS: StartDefaults = {
  executionTimeoutMs: undefined,
  runTimeoutMs: undefined,
  taskTimeoutMs: undefined,
  idReusePolicy: undefined,
};

/** A definition from the fields that matter, the rest defaulted: how code registers a type. */
export function defineWorkflowType(
  fields: Pick<WorkflowTypeDefinition, "name" | "description"> & Partial<Omit<WorkflowTypeDefinition, "defaults">> & { defaults?: Partial<StartDefaults> },
): WorkflowTypeDefinition {
  return {
    taskQueue: undefined,
    input: undefined,
    result: undefined,
    args: "single",
    signals: [],
    queries: [],
    updates: [],
    source: "code",
    ...fields,
    defaults: { ...NO_DEFAULTS, ...fields.defaults },
  };
}
