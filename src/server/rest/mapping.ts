// REST <-> request message: reads a method's google.api.http rule, and builds the request's proto3 JSON
// from path variables, query parameters and the body, exactly as the rule says.
import { getOption, hasOption, ScalarType, type DescField, type DescMessage, type DescMethod, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { http as httpRuleExt } from "../../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../../gen/google/api/http_pb.js";
import { compileTemplate, type CompiledTemplate } from "./template.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One REST binding of an RPC: its HTTP method and path, and where the request's fields come from. */
export interface HttpBinding {
  readonly httpMethod: HttpMethod;
  readonly template: CompiledTemplate;
  /** "" (no body), "*" (the body is the request) or a field name (the body is that field). */
  readonly body: string;
  /** "" (the response is the body) or the proto name of the response field to send alone. */
  readonly responseBody: string;
}

/** The method's bindings from its google.api.http option (and additional_bindings); none without one. */
export function httpBindings(method: DescMethod): HttpBinding[] {
  if (!hasOption(method, httpRuleExt)) return [];
  const rule = getOption(method, httpRuleExt);
  return [rule, ...rule.additionalBindings].map((r) => toBinding(method, r));
}

function toBinding(method: DescMethod, rule: HttpRule): HttpBinding {
  const where = `${method.parent.typeName}.${method.name}`;
  const { pattern } = rule;
  let httpMethod: HttpMethod;
  let path: string;
  switch (pattern.case) {
    case "get":
    case "post":
    case "put":
    case "patch":
    case "delete":
      httpMethod = pattern.case.toUpperCase() as HttpMethod;
      path = pattern.value;
      break;
    default:
      throw new Error(`${where}: google.api.http pattern "${pattern.case ?? "none"}" is not supported`);
  }
  if (rule.body !== "" && rule.body !== "*") resolveField(method.input, rule.body.split("."), where);
  let responseBody = "";
  if (rule.responseBody !== "") {
    if (rule.responseBody.includes(".")) throw new Error(`${where}: response_body must name a top-level field`);
    responseBody = resolveField(method.output, [rule.responseBody], where).name;
  }
  const template = compileTemplate(path);
  for (const v of template.variables) resolveField(method.input, v.fieldPath, where);
  return { httpMethod, template, body: rule.body, responseBody };
}

/** The fields a path (in proto or JSON names) passes through, and where it stops when it cannot go on. */
interface FieldWalk {
  readonly fields: readonly DescField[];
  readonly stop?: { readonly at: number; readonly reason: "unknown field" | "not a message" };
}

/** Follows a field path through nested messages: the one walker every lookup below goes through. */
function walkFields(message: DescMessage, path: readonly string[]): FieldWalk {
  const fields: DescField[] = [];
  let current = message;
  for (const [i, name] of path.entries()) {
    const field = current.fields.find((f) => f.name === name || f.jsonName === name);
    if (field === undefined) return { fields, stop: { at: i, reason: "unknown field" } };
    fields.push(field);
    if (i === path.length - 1) break;
    if (field.fieldKind !== "message") return { fields, stop: { at: i, reason: "not a message" } };
    current = field.message;
  }
  return { fields };
}

/** The field at the end of a path of the rule (checked at start-up); throws naming the rule when there is none. */
function resolveField(message: DescMessage, path: readonly string[], where: string): DescField {
  const { fields, stop } = walkFields(message, path);
  if (stop !== undefined) {
    const prefix = path.slice(0, stop.at + 1).join(".");
    throw new Error(
      stop.reason === "unknown field" ? `${where}: no field "${prefix}" in ${message.typeName}` : `${where}: field "${prefix}" is not a message`,
    );
  }
  return fields.at(-1)!;
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

export type QueryParams = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The request message's proto3 JSON for one REST call. Path variables win over the body and the query;
 * query parameters set the fields the path and body leave (only when the body is not "*"). Field names are
 * accepted in both spellings (`workflow_id`, `workflowId`).
 */
export function buildRequestJson(
  input: DescMessage,
  binding: HttpBinding,
  pathValues: ReadonlyMap<string, string>,
  query: QueryParams,
  body: unknown,
): JsonObject {
  let json: JsonObject = {};
  if (binding.body === "*") {
    if (body !== undefined && (body === null || typeof body !== "object" || Array.isArray(body))) {
      throw invalid("request body must be a JSON object");
    }
    json = (body as JsonObject | undefined) ?? {};
  } else if (binding.body !== "") {
    if (body !== undefined) setField(json, walkFields(input, binding.body.split(".")).fields, body as JsonValue);
  } else if (body !== undefined) {
    throw invalid(`${binding.httpMethod} ${binding.template.template} takes no request body`);
  }

  const bound = new Set(pathValues.keys());
  for (const [name, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    const walk = walkFields(input, name.split("."));
    if (walk.stop !== undefined) throw invalid(`unknown query parameter "${name}"`);
    const field = walk.fields.at(-1)!;
    const key = walk.fields.map((f) => f.name).join(".");
    if (bound.has(key)) continue;
    if (binding.body === "*") {
      throw invalid(`query parameter "${name}" is not accepted: ${binding.template.template} takes its fields from the body`);
    }
    if (binding.body !== "" && key.split(".")[0] === binding.body.split(".")[0]) {
      throw invalid(`query parameter "${name}" is not accepted: that field comes from the body`);
    }
    const values = typeof raw === "string" ? [raw] : raw;
    setField(json, walk.fields, fieldValueFromText(field, values, name));
  }

  for (const [key, text] of pathValues) {
    // Checked at start-up: every path variable names a field.
    const { fields } = walkFields(input, key.split("."));
    setField(json, fields, fieldValueFromText(fields.at(-1)!, [text], key));
  }
  return json;
}

/** Sets a (nested) field in the JSON, replacing either spelling of it. */
function setField(json: JsonObject, fields: readonly DescField[], value: JsonValue): void {
  let target = json;
  for (const [i, field] of fields.entries()) {
    const existing = target[field.name] ?? target[field.jsonName];
    delete target[field.jsonName];
    if (i === fields.length - 1) {
      target[field.name] = value;
      return;
    }
    const next: JsonObject = existing !== null && typeof existing === "object" && !Array.isArray(existing) ? existing : {};
    target[field.name] = next;
    target = next;
  }
}

/** Wrapper and other well-known types whose JSON form is a string (or a bool), so text can set them. */
const TEXT_MESSAGES = new Set([
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.FieldMask",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
  "google.protobuf.Int32Value",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.FloatValue",
  "google.protobuf.DoubleValue",
  "google.protobuf.Value",
]);

/**
 * A path or query text as the field's JSON value. Numbers stay strings (proto3 JSON accepts them, and
 * decoding then names the field when one is malformed); booleans and enum numbers need converting.
 */
function fieldValueFromText(field: DescField, texts: readonly string[], name: string): JsonValue {
  const one = (text: string): JsonValue => {
    switch (field.fieldKind) {
      case "scalar":
      case "list":
        if (field.fieldKind === "list" && field.listKind === "message") {
          throw invalid(`field "${name}" holds messages and cannot be set from the URL; send it in the body`);
        }
        if (field.fieldKind === "list" && field.listKind === "enum") return enumText(text);
        return field.scalar === ScalarType.BOOL ? boolText(text, name) : text;
      case "enum":
        return enumText(text);
      case "message":
        if (field.message.typeName === "google.protobuf.BoolValue") return boolText(text, name);
        if (TEXT_MESSAGES.has(field.message.typeName)) return text;
        throw invalid(`field "${name}" is a message and cannot be set from the URL; send it in the body`);
      case "map":
        throw invalid(`field "${name}" is a map and cannot be set from the URL; send it in the body`);
    }
  };
  if (field.fieldKind === "list") return texts.map(one);
  if (texts.length > 1) throw invalid(`query parameter "${name}" is given ${texts.length} times but takes one value`);
  return one(texts[0]!);
}

function boolText(text: string, name: string): boolean {
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw invalid(`field "${name}" must be true or false, got "${text}"`);
}

function enumText(text: string): JsonValue {
  return /^-?\d+$/.test(text) ? Number(text) : text;
}
