import type { JsonValue } from "@bufbuild/protobuf";
import { defineWorkflowType, type WorkflowTypeDefinition } from "./definition.js";
import {
  InvalidInputError,
  RegistrationError,
  UndeclaredHandlerError,
  UnknownWorkflowTypeError,
  WorkflowTypeNotFoundError,
} from "./errors.js";
import { compileSchema, type Validator } from "./schema.js";

/** The three kinds of message a running workflow takes. */
export type HandlerKind = "signal" | "query" | "update";

const HANDLERS_OF: Readonly<Record<HandlerKind, "signals" | "queries" | "updates">> = {
  signal: "signals",
  query: "queries",
  update: "updates",
};

export interface RegistryOptions {
  /** Accept any workflow type name, unchecked (FLOWGATE_ALLOW_UNREGISTERED). */
  readonly allowUnregistered?: boolean;
}

/** The workflow types the API may start, by name, with their compiled input schemas. */
export class WorkflowRegistry {
  private readonly byName = new Map<string, { definition: WorkflowTypeDefinition; validateInput: Validator | undefined }>();
  /** Input validators of signals, queries and updates, by `type\0kind\0name`; undefined: any JSON. */
  private readonly handlerInputs = new Map<string, Validator | undefined>();
  readonly allowUnregistered: boolean;

  /** Throws, naming the type and where it came from, on a duplicate name or a schema that does not compile. */
  constructor(definitions: readonly WorkflowTypeDefinition[], options: RegistryOptions = {}) {
    this.allowUnregistered = options.allowUnregistered ?? false;
    for (const definition of definitions) {
      const earlier = this.byName.get(definition.name);
      if (earlier !== undefined) {
        const hint = earlier.definition.source === "sample" ? " (set FLOWGATE_SAMPLES=false to leave the samples out)" : "";
        throw new RegistrationError(
          `workflow type "${definition.name}" is registered twice: by ${earlier.definition.source} and by ${definition.source}${hint}`,
        );
      }
      let validateInput: Validator | undefined;
      try {
        validateInput = definition.input === undefined ? undefined : compileSchema(definition.input);
      } catch (err) {
        throw new RegistrationError(`workflow type "${definition.name}" (${definition.source}): input schema: ${(err as Error).message}`);
      }
      this.byName.set(definition.name, { definition, validateInput });
      for (const kind of Object.keys(HANDLERS_OF) as HandlerKind[]) {
        for (const handler of definition[HANDLERS_OF[kind]]) {
          try {
            const validate = handler.input === undefined ? undefined : compileSchema(handler.input);
            this.handlerInputs.set(handlerKey(definition.name, kind, handler.name), validate);
          } catch (err) {
            throw new RegistrationError(
              `workflow type "${definition.name}" (${definition.source}): ${kind} "${handler.name}": input schema: ${(err as Error).message}`,
            );
          }
        }
      }
    }
  }

  /** Every registered type, by name. */
  list(): WorkflowTypeDefinition[] {
    return [...this.byName.values()].map((t) => t.definition).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A registered type; WorkflowTypeNotFoundError listing the registered ones when there is none. */
  get(name: string): WorkflowTypeDefinition {
    const found = this.byName.get(name);
    if (found === undefined) throw new WorkflowTypeNotFoundError(name, [...this.byName.keys()].sort());
    return found.definition;
  }

  /**
   * The type a start names. An unregistered name is refused with the list of registered ones, unless
   * unregistered types are allowed: it then gets an open definition (any input, the default queue).
   */
  resolve(name: string, field = "workflow_type"): WorkflowTypeDefinition {
    const found = this.byName.get(name);
    if (found !== undefined) return found.definition;
    if (this.allowUnregistered) return defineWorkflowType({ name, description: "", source: "unregistered" });
    throw new UnknownWorkflowTypeError(name, [...this.byName.keys()].sort(), field);
  }

  /**
   * Checks a start's input against its type's schema and argument shape; throws InvalidInputError naming
   * each failing path. An absent input is checked as null, so a schema that needs a value reports it missing.
   */
  checkInput(type: WorkflowTypeDefinition, input: JsonValue | undefined): void {
    if (type.args === "spread" && input !== undefined && !Array.isArray(input)) {
      throw new InvalidInputError(type.name, [
        { path: ["input"], keyword: "type", message: `must be a JSON array: workflow type "${type.name}" takes several arguments` },
      ]);
    }
    const validate = this.byName.get(type.name)?.validateInput;
    if (validate === undefined) return;
    const violations = validate(input ?? null, "input");
    if (violations.length === 0) return;
    if (input === undefined) {
      throw new InvalidInputError(type.name, [
        { path: ["input"], keyword: "required", message: `is required by workflow type "${type.name}"` },
      ]);
    }
    throw new InvalidInputError(type.name, violations);
  }

  /**
   * Checks a signal, query or update sent to a run of `typeName`: the type must be registered (unless
   * unregistered types are allowed, which skips the check) and declare a handler of that name, and the
   * input must match the handler's schema. `field` names the request field that holds the input.
   */
  checkHandler(typeName: string, kind: HandlerKind, name: string, input: JsonValue | undefined, field = "input"): void {
    const type = this.byName.get(typeName);
    if (type === undefined) {
      if (this.allowUnregistered) return;
      throw new UndeclaredHandlerError(kind, name, typeName, undefined);
    }
    const key = handlerKey(typeName, kind, name);
    if (!this.handlerInputs.has(key)) {
      throw new UndeclaredHandlerError(kind, name, typeName, type.definition[HANDLERS_OF[kind]].map((h) => h.name));
    }
    const validate = this.handlerInputs.get(key);
    if (validate === undefined) return;
    const violations = validate(input ?? null, field);
    if (violations.length === 0) return;
    if (input === undefined) {
      throw new InvalidInputError(typeName, [{ path: [field], keyword: "required", message: `is required by ${kind} "${name}"` }]);
    }
    throw new InvalidInputError(typeName, violations);
  }
}

function handlerKey(type: string, kind: HandlerKind, name: string): string {
  return `${type}\0${kind}\0${name}`;
}
