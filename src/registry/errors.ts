// The registry's failures and their Connect codes: the one error table of src/registry (a test per row).
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { FieldPathElementSchema, ViolationsSchema, type FieldPathElement } from "../../gen/buf/validate/validate_pb.js";
import type { ErrorTable } from "../errors/index.js";
import { formatPath, type Violation } from "./schema.js";

/** "(registered: a, b)", the list every refusal of an unknown type ends with. */
function registeredList(registered: readonly string[]): string {
  return `(registered: ${registered.length > 0 ? registered.join(", ") : "none"})`;
}

/** A workflow type that cannot be registered (at start-up): a duplicate name, a schema that does not compile. */
export class RegistrationError extends Error {
  override name = "RegistrationError";
}

/** A start names a workflow type the registry does not hold. */
export class UnknownWorkflowTypeError extends Error {
  override name = "UnknownWorkflowTypeError";
  constructor(
    readonly workflowType: string,
    readonly registered: readonly string[],
    /** The request field that named it, for the message. */
    readonly field = "workflow_type",
  ) {
    super(
      `${field}: "${workflowType}" is not a registered workflow type ${registeredList(registered)}`,
    );
  }
}

/**
 * A signal, query or update the run's workflow type does not declare, or sent to a run whose type is not
 * registered (so nothing says what it accepts).
 */
export class UndeclaredHandlerError extends Error {
  override name = "UndeclaredHandlerError";
  constructor(
    readonly kind: "signal" | "query" | "update",
    readonly handler: string,
    readonly workflowType: string,
    /** The type's handlers of that kind; undefined when the type is not registered. */
    readonly declared: readonly string[] | undefined,
  ) {
    super(
      declared === undefined
        ? `${kind}_name: the run's workflow type "${workflowType}" is not registered, so its ${kind}s cannot be checked ` +
            "(register the type, or set FLOWGATE_ALLOW_UNREGISTERED=true)"
        : `${kind}_name: "${handler}" is not a ${kind} of workflow type "${workflowType}" ` +
            `(declared: ${declared.length > 0 ? declared.join(", ") : "none"})`,
    );
  }
}

/** GetWorkflowType names a type the registry does not hold. */
export class WorkflowTypeNotFoundError extends Error {
  override name = "WorkflowTypeNotFoundError";
  constructor(
    readonly workflowType: string,
    readonly registered: readonly string[],
  ) {
    super(`workflow type "${workflowType}" is not registered ${registeredList(registered)}`);
  }
}

/** A request value does not match the schema its workflow type declares. */
export class InvalidInputError extends Error {
  override name = "InvalidInputError";
  constructor(
    readonly workflowType: string,
    readonly violations: readonly Violation[],
  ) {
    super(violations.map((v) => `${formatPath(v.path)}: ${v.message}`).join("; "));
  }
}

/** The violations as buf.validate.Violations, the detail protovalidate attaches to its own failures. */
function violationDetails(err: InvalidInputError) {
  const violations = err.violations.map((v) => ({
    field: { elements: fieldPathElements(v.path) },
    ruleId: `json_schema.${v.keyword}`,
    message: v.message,
  }));
  return [{ desc: ViolationsSchema, value: create(ViolationsSchema, { violations }) }];
}

/** Each object key a field name; an array index the subscript of the step before it. */
function fieldPathElements(path: readonly (string | number)[]): FieldPathElement[] {
  const elements: FieldPathElement[] = [];
  for (const step of path) {
    const last = elements.at(-1);
    if (typeof step === "number" && last !== undefined && last.subscript.case === undefined) {
      last.subscript = { case: "index", value: BigInt(step) };
    } else {
      elements.push(create(FieldPathElementSchema, { fieldName: String(step) }));
    }
  }
  return elements;
}

export const REGISTRY_ERROR_TABLE: ErrorTable = [
  {
    name: "UnknownWorkflowTypeError",
    match: (e) => e instanceof UnknownWorkflowTypeError,
    code: Code.InvalidArgument,
    message: (e) => (e as Error).message,
  },
  {
    name: "UndeclaredHandlerError",
    match: (e) => e instanceof UndeclaredHandlerError,
    code: Code.InvalidArgument,
    message: (e) => (e as Error).message,
  },
  {
    name: "WorkflowTypeNotFoundError",
    match: (e) => e instanceof WorkflowTypeNotFoundError,
    code: Code.NotFound,
    message: (e) => (e as Error).message,
  },
  {
    name: "InvalidInputError",
    match: (e) => e instanceof InvalidInputError,
    code: Code.InvalidArgument,
    message: (e) => (e as Error).message,
    details: (e) => violationDetails(e as InvalidInputError),
  },
];
