// Which events a trigger fires on: its types, topics and sources, and conditions on the event's values (all
// that are set must hold). Pure functions, checked once at registration and tested without Temporal.
import type { JsonValue } from "@bufbuild/protobuf";
import { parsePath, valueAt, type PublishedEvent } from "./event.js";

/** One test on the value at `path`: exactly one of equals, in, exists, prefix. */
export type EventCondition = { readonly path: string } & (
  | { readonly equals: JsonValue }
  | { readonly in: readonly JsonValue[] }
  | { readonly exists: boolean }
  | { readonly prefix: string }
);

export interface EventFilter {
  /** The event's type is one of these; empty or absent: any. */
  readonly types?: readonly string[];
  /** The event's Dapr topic is one of these; empty or absent: any. */
  readonly topics?: readonly string[];
  /** The event's source is one of these; empty or absent: any. */
  readonly sources?: readonly string[];
  readonly conditions?: readonly EventCondition[];
}

const TESTS = ["equals", "in", "exists", "prefix"] as const;

/** What is wrong with a condition, or undefined: a valid path and exactly one test of the right kind. */
export function conditionProblem(condition: EventCondition): string | undefined {
  if (typeof condition.path !== "string") return "path: is required";
  const parsed = parsePath(condition.path);
  if ("problem" in parsed) return `path: ${parsed.problem}`;
  const tests = TESTS.filter((t) => t in condition);
  if (tests.length !== 1) return `needs exactly one of ${TESTS.join(", ")} (has ${tests.length === 0 ? "none" : tests.join(", ")})`;
  if ("in" in condition && !Array.isArray(condition.in)) return "in: must be an array of values";
  if ("exists" in condition && typeof condition.exists !== "boolean") return "exists: must be true or false";
  if ("prefix" in condition && typeof condition.prefix !== "string") return "prefix: must be a string";
  return undefined;
}

/** Whether the event passes every part of the filter. Conditions must have been checked (conditionProblem). */
export function matchesFilter(filter: EventFilter, event: PublishedEvent): boolean {
  if (!oneOf(filter.types, event.type)) return false;
  if (!oneOf(filter.topics, event.topic)) return false;
  if (!oneOf(filter.sources, event.source)) return false;
  return (filter.conditions ?? []).every((c) => holds(c, event));
}

function oneOf(allowed: readonly string[] | undefined, value: string): boolean {
  return allowed === undefined || allowed.length === 0 || allowed.includes(value);
}

function holds(condition: EventCondition, event: PublishedEvent): boolean {
  const parsed = parsePath(condition.path);
  if ("problem" in parsed) return false;
  const value = valueAt(event, parsed.steps);
  if ("exists" in condition) return (value !== undefined && value !== null) === condition.exists;
  if (value === undefined) return false;
  if ("equals" in condition) return jsonEqual(value, condition.equals);
  if ("in" in condition) return condition.in.some((v) => jsonEqual(value, v));
  return typeof value === "string" && value.startsWith(condition.prefix);
}

/** JSON equality: by content for arrays and objects (key order does not matter). */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]!));
  }
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k]!, b[k]!));
}
