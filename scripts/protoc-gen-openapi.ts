// protoc-gen-openapi: the OpenAPI 3.1 document of Flowgate's REST API, written by buf (buf.gen.yaml) from the
// contract into openapi/flowgate.openapi.json, which the server serves at GET /openapi.json.
//
// It reads each RPC's google.api.http rule with the REST transcoder's own reader (httpBindings in
// src/server/rest/mapping.ts), so the document's paths, path parameters, query parameters and bodies are the
// ones the server routes; and it writes JSON as the transcoder does: the contract's field names, 64-bit
// integers as strings (numbers accepted), enums by name, well-known types in their proto3 JSON forms. Field
// rules of buf.validate become JSON Schema bounds, and the comments of the protos become descriptions.
// Every error is the Connect error JSON with the HTTP status of Flowgate's error table.
import { readFileSync } from "node:fs";
import { create, createFileRegistry, getOption, hasOption, ScalarType, type DescEnum, type DescField, type DescMessage, type DescMethod, type DescService, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { CodeGeneratorResponse_Feature, CodeGeneratorResponseSchema, FileDescriptorSetSchema, type CodeGeneratorRequest } from "@bufbuild/protobuf/wkt";
import { getComments, runNodeJs, type Plugin } from "@bufbuild/protoplugin";
import { field as fieldRules, type FieldRules } from "../gen/buf/validate/validate_pb.js";
import { scope as scopeOption } from "../gen/flowgate/auth/v1/auth_pb.js";
import { httpBindings, type HttpBinding } from "../src/server/rest/mapping.js";

const OUTPUT = "flowgate.openapi.json";
const ERROR_CODES = [
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];
/** Client streams have no REST form in the transcoder; UploadFile has a route of its own (upload-route.ts). */
const UPLOAD = { method: "flowgate.workflow.v1.WorkflowService.UploadFile", path: "/workflows/v1/file" };

/** proto3 JSON forms of the well-known types. */
const WELL_KNOWN: Readonly<Record<string, JsonObject>> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time", description: "RFC 3339, such as 2026-11-25T10:00:00Z" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", description: "seconds with an s suffix, such as 30s or 1.5s" },
  "google.protobuf.Value": { description: "any JSON value" },
  "google.protobuf.Struct": { type: "object", additionalProperties: true },
  "google.protobuf.ListValue": { type: "array" },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.FieldMask": { type: "string", description: "field paths separated by commas" },
  "google.protobuf.Any": { type: "object", properties: { "@type": { type: "string" } }, required: ["@type"], additionalProperties: true },
  "google.protobuf.StringValue": { type: ["string", "null"] },
  "google.protobuf.BytesValue": { type: ["string", "null"], contentEncoding: "base64" },
  "google.protobuf.BoolValue": { type: ["boolean", "null"] },
  "google.protobuf.DoubleValue": { type: ["number", "null"] },
  "google.protobuf.FloatValue": { type: ["number", "null"] },
  "google.protobuf.Int32Value": { type: ["integer", "null"], format: "int32" },
  "google.protobuf.UInt32Value": { type: ["integer", "null"], minimum: 0 },
  "google.protobuf.Int64Value": { type: ["string", "integer", "null"], format: "int64" },
  "google.protobuf.UInt64Value": { type: ["string", "integer", "null"], format: "uint64" },
};

class Document {
  readonly schemas: Record<string, JsonObject> = {};
  readonly paths: Record<string, Record<string, JsonObject>> = {};

  /** A $ref to the message's schema, written into components on first use. */
  ref(message: DescMessage): JsonObject {
    const known = WELL_KNOWN[message.typeName];
    if (known !== undefined) return known;
    if (this.schemas[message.typeName] === undefined) {
      this.schemas[message.typeName] = {}; // placeholder: messages may refer to themselves
      this.schemas[message.typeName] = this.messageSchema(message);
    }
    return { $ref: `#/components/schemas/${message.typeName}` };
  }

  private messageSchema(message: DescMessage): JsonObject {
    const properties: Record<string, JsonValue> = {};
    const required: string[] = [];
    for (const field of message.fields) {
      const rules = hasOption(field, fieldRules) ? getOption(field, fieldRules) : undefined;
      properties[field.name] = { ...this.fieldSchema(field, rules), ...described(field) };
      if (rules?.required === true || (rules?.type.case === "string" && rules.type.value.minLen > 0n)) required.push(field.name);
    }
    return {
      type: "object",
      ...described(message),
      properties,
      ...(required.length > 0 ? { required } : {}),
    };
  }

  private fieldSchema(field: DescField, rules: FieldRules | undefined): JsonObject {
    switch (field.fieldKind) {
      case "scalar":
        return { ...scalarSchema(field.scalar), ...bounds(rules) };
      case "enum":
        return enumSchema(field.enum, rules);
      case "message":
        return this.ref(field.message);
      case "list": {
        const itemRules = rules?.type.case === "repeated" ? rules.type.value.items : undefined;
        const items = field.listKind === "scalar" ? { ...scalarSchema(field.scalar), ...bounds(itemRules) } : field.listKind === "enum" ? enumSchema(field.enum, itemRules) : this.ref(field.message);
        const repeated = rules?.type.case === "repeated" ? rules.type.value : undefined;
        return {
          type: "array",
          items,
          ...(repeated?.minItems ? { minItems: Number(repeated.minItems) } : {}),
          ...(repeated?.maxItems ? { maxItems: Number(repeated.maxItems) } : {}),
        };
      }
      case "map": {
        const values = field.mapKind === "scalar" ? scalarSchema(field.scalar) : field.mapKind === "enum" ? enumSchema(field.enum, undefined) : this.ref(field.message);
        return { type: "object", additionalProperties: values };
      }
    }
  }

  operation(method: DescMethod, binding: HttpBinding | undefined, index: number): void {
    const comments = commentOf(method);
    const scope = hasOption(method, scopeOption) ? getOption(method, scopeOption) : "";
    const operation: JsonObject = {
      operationId: `${method.parent.name}_${method.name}${index > 0 ? `_${index + 1}` : ""}`,
      tags: [method.parent.name],
      summary: firstSentence(comments),
      description: `${comments}${scope ? `\n\nScope: \`${scope}\`.` : ""}\n\nAlso served as \`${method.parent.typeName}/${method.name}\` over gRPC, gRPC-Web and Connect.`,
      ...(scope ? { security: [{ bearer: [] }, {}] } : {}),
    };
    let path: string;
    let verb: string;
    if (binding === undefined) {
      // UploadFile: multipart/form-data at its own route.
      path = UPLOAD.path;
      verb = "post";
      operation.requestBody = {
        required: true,
        content: { "multipart/form-data": { schema: { type: "object", required: ["file"], properties: { file: { type: "string", contentMediaType: "application/octet-stream" } } } } },
      };
    } else {
      path = binding.template.template.replace(/\{([^}=]+)=[^}]*\}/g, "{$1}").replace(/:[A-Za-z]+$/, (verbText) => verbText);
      verb = binding.httpMethod.toLowerCase();
      const bound = new Set(binding.template.variables.map((v) => v.fieldPath.join(".")));
      const parameters: JsonValue[] = binding.template.variables.map((v) => ({
        name: v.fieldPath.join("."),
        in: "path",
        required: true,
        schema: pathSchema(this.fieldAt(method.input, v.fieldPath)),
      }));
      if (binding.body === "") {
        for (const field of method.input.fields) {
          if (bound.has(field.name) || !settableFromText(field)) continue;
          const schema = this.fieldSchema(field, hasOption(field, fieldRules) ? getOption(field, fieldRules) : undefined);
          parameters.push({ name: field.name, in: "query", required: false, schema, ...described(field), ...(field.fieldKind === "list" ? { style: "form", explode: true } : {}) });
        }
      }
      if (parameters.length > 0) operation.parameters = parameters;
      // The transcoder takes an absent body as {} (a request of defaults), so no body is required.
      if (binding.body === "*") {
        operation.requestBody = { required: false, content: { "application/json": { schema: this.bodySchema(method.input, bound) } } };
      } else if (binding.body !== "") {
        const field = this.fieldAt(method.input, binding.body.split("."));
        operation.requestBody = { required: false, content: { "application/json": { schema: this.fieldSchema(field, undefined) } } };
      }
    }
    const output = binding?.responseBody ? this.fieldSchema(method.output.fields.find((f) => f.name === binding.responseBody)!, undefined) : this.ref(method.output);
    const content: JsonObject =
      method.methodKind === "server_streaming"
        ? {
            "application/x-ndjson": { schema: output },
            "text/event-stream": { schema: { type: "string", description: "Server-Sent Events: each event's data is one message as JSON" } },
          }
        : { "application/json": { schema: output } };
    operation.responses = {
      "200": { description: method.methodKind === "server_streaming" ? "The messages as they come, until the stream ends." : "OK", content },
      default: { $ref: "#/components/responses/Error" },
    };
    (this.paths[path] ??= {})[verb] = operation;
  }

  /**
   * The body of a `body: "*"` route: the request's schema without the fields its path binds (the path's value
   * wins over the body's, so a caller need not send them twice).
   */
  private bodySchema(message: DescMessage, bound: ReadonlySet<string>): JsonObject {
    const full = this.ref(message);
    if (bound.size === 0 || full.$ref === undefined) return full;
    const schema = this.schemas[message.typeName]!;
    const properties = Object.fromEntries(Object.entries(schema.properties as JsonObject).filter(([name]) => !bound.has(name)));
    const required = ((schema.required as string[] | undefined) ?? []).filter((name) => !bound.has(name));
    const { required: _all, ...rest } = schema;
    return { ...rest, properties, ...(required.length > 0 ? { required } : {}) };
  }

  private fieldAt(message: DescMessage, path: readonly string[]): DescField {
    let current = message;
    let field: DescField | undefined;
    for (const name of path) {
      field = current.fields.find((f) => f.name === name || f.jsonName === name);
      if (field === undefined) throw new Error(`${message.typeName}: no field ${path.join(".")}`);
      if (field.fieldKind === "message") current = field.message;
    }
    return field!;
  }
}

function scalarSchema(scalar: ScalarType): JsonObject {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: "number" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32", minimum: -2147483648, maximum: 2147483647 };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", minimum: 0, maximum: 4294967295 };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: ["string", "integer"], format: "uint64", pattern: "^[0-9]{1,20}$", minimum: 0, description: "a 64-bit integer: a string in answers" };
    default:
      return { type: ["string", "integer"], format: "int64", pattern: "^-?[0-9]{1,19}$", description: "a 64-bit integer: a string in answers" };
  }
}

/** Enum values by name, without those the field's rules exclude. */
function enumSchema(desc: DescEnum, rules: FieldRules | undefined): JsonObject {
  const notIn = rules?.type.case === "enum" ? new Set(rules.type.value.notIn) : new Set<number>();
  return { type: "string", enum: desc.values.filter((v) => !notIn.has(v.number)).map((v) => v.name) };
}

/** buf.validate bounds of strings and numbers, as JSON Schema keywords. */
function bounds(rules: FieldRules | undefined): JsonObject {
  if (rules === undefined) return {};
  const out: JsonObject = {};
  const { type } = rules;
  if (type.case === "string") {
    if (type.value.minLen > 0n) out.minLength = Number(type.value.minLen);
    if (type.value.maxLen > 0n) out.maxLength = Number(type.value.maxLen);
  }
  if (type.case === "int32" || type.case === "int64" || type.case === "uint32" || type.case === "uint64" || type.case === "double") {
    const { greaterThan, lessThan } = type.value;
    if (greaterThan.case === "gte") out.minimum = Number(greaterThan.value);
    if (greaterThan.case === "gt") out.exclusiveMinimum = Number(greaterThan.value);
    if (lessThan.case === "lte") out.maximum = Number(lessThan.value);
    if (lessThan.case === "lt") out.exclusiveMaximum = Number(lessThan.value);
  }
  return out;
}

/** A path segment is text: a 64-bit integer there is the string form alone. */
function pathSchema(field: DescField): JsonObject {
  const rules = hasOption(field, fieldRules) ? getOption(field, fieldRules) : undefined;
  return field.fieldKind === "scalar" ? { type: "string", ...stringBounds(rules) } : { type: "string" };
}

function stringBounds(rules: FieldRules | undefined): JsonObject {
  if (rules?.type.case !== "string") return {};
  return { ...(rules.type.value.minLen > 0n ? { minLength: Number(rules.type.value.minLen) } : { minLength: 1 }), ...(rules.type.value.maxLen > 0n ? { maxLength: Number(rules.type.value.maxLen) } : {}) };
}

/** Fields a query parameter can set (the transcoder's rule): scalars, enums, lists of them, text-form well-known types. */
function settableFromText(field: DescField): boolean {
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
      return true;
    case "list":
      return field.listKind !== "message";
    case "map":
      return false;
    case "message":
      return WELL_KNOWN[field.message.typeName] !== undefined && !["google.protobuf.Struct", "google.protobuf.ListValue", "google.protobuf.Any", "google.protobuf.Empty", "google.protobuf.Value"].includes(field.message.typeName);
  }
}

function described(desc: DescMessage | DescField): JsonObject {
  const text = commentOf(desc);
  return text ? { description: text } : {};
}

/** A descriptor's leading comment, without the space each line keeps after "//". */
function commentOf(desc: DescMessage | DescField | DescMethod | DescService): string {
  return (getComments(desc).leading ?? "")
    .split("\n")
    .map((line) => line.replace(/^ /, ""))
    .join("\n")
    .trim();
}

function firstSentence(text: string): string {
  const first = text.split(/\n\s*\n/)[0]!.replace(/\s+/g, " ");
  const end = first.search(/\.(\s|$)/);
  return end === -1 ? first : first.slice(0, end + 1);
}

function generate(request: CodeGeneratorRequest): string {
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: request.protoFile }));
  const doc = new Document();
  const services: DescService[] = [];
  for (const name of request.fileToGenerate) {
    const file = registry.getFile(name);
    if (file === undefined || !name.startsWith("flowgate/")) continue;
    services.push(...file.services);
  }
  for (const service of services) {
    for (const method of service.methods) {
      if (`${service.typeName}.${method.name}` === UPLOAD.method) doc.operation(method, undefined, 0);
      httpBindings(method).forEach((binding, i) => doc.operation(method, binding, i));
    }
  }
  const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  const document = {
    openapi: "3.1.0",
    info: {
      title: "Flowgate",
      version,
      description:
        "Temporal workflows over REST, from the Protobuf contract Flowgate also serves as gRPC, gRPC-Web and Connect on the same port. " +
        "Requests and answers are proto3 JSON with the contract's field names (camelCase names are accepted too). " +
        "Every error is `{code, message, details}` with the HTTP status of Flowgate's error table. Generated by scripts/protoc-gen-openapi.ts.",
    },
    tags: services.map((s) => ({ name: s.name, description: commentOf(s) })),
    paths: Object.fromEntries(Object.entries(doc.paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: Object.fromEntries(Object.entries(doc.schemas).sort(([a], [b]) => a.localeCompare(b))),
      responses: {
        Error: {
          description:
            "A failed call. The status is the code's in Flowgate's error table: invalid_argument, failed_precondition and out_of_range 400, unauthenticated 401, permission_denied 403, not_found 404, already_exists and aborted 409, resource_exhausted 429 (413 for a body over the limit), canceled 499, unimplemented 501, unavailable 503, deadline_exceeded 504, the rest 500.",
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["code"],
                properties: {
                  code: { type: "string", enum: ERROR_CODES },
                  message: { type: "string" },
                  details: { type: "array", items: { type: "object", properties: { type: { type: "string" }, value: { type: "string" }, debug: {} } } },
                },
              },
            },
          },
        },
      },
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "An API key or a JWT, when the server has authentication on (FLOWGATE_API_KEYS_FILE, FLOWGATE_JWT_*); each operation names the scope it needs.",
        },
      },
    },
  };
  return `${JSON.stringify(document, undefined, 2)}\n`;
}

const plugin: Plugin = {
  name: "protoc-gen-openapi",
  version: "v1",
  run(request) {
    return create(CodeGeneratorResponseSchema, {
      supportedFeatures: BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL),
      file: [{ name: OUTPUT, content: generate(request) }],
    });
  },
};

runNodeJs(plugin);
