// google.protobuf.Value <-> JSON for every service: what a client sends is checked to be JSON (a binary client
// can send NaN), what Temporal returns is made JSON.
import { fromJson, toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

/** A request's optional JSON field as JSON; undefined when absent. */
export function optionalJson(value: Value | undefined, field: string): JsonValue | undefined {
  return value === undefined ? undefined : valueToJson(value, field);
}

/**
 * A JSON value from Temporal (a result, an event's data) as a google.protobuf.Value. `undefined` is null,
 * or absent with `absent`; what JSON cannot hold (a Date, a number that is not finite) goes through JSON.
 */
export function jsonToValue(value: unknown, absent = false): Value | undefined {
  if (value === undefined) return absent ? undefined : fromJson(ValueSchema, null);
  return fromJson(ValueSchema, JSON.parse(JSON.stringify(value) ?? "null") as JsonValue);
}

/**
 * A client's google.protobuf.Value as JSON. A binary client can send what JSON cannot hold (NaN, Infinity,
 * a Value with no kind); that is the client's mistake, named with its path, not a server failure.
 */
export function valueToJson(value: Value, field: string): JsonValue {
  const problem = unrepresentable(value, field);
  if (problem !== undefined) throw new ConnectError(problem, Code.InvalidArgument);
  return toJson(ValueSchema, value);
}

/** Where `value` holds something JSON cannot, in words; undefined when it is all JSON. */
function unrepresentable(value: Value, path: string): string | undefined {
  const { kind } = value;
  switch (kind.case) {
    case undefined:
      return `${path}: a google.protobuf.Value with no kind set is not a JSON value`;
    case "numberValue":
      return Number.isFinite(kind.value) ? undefined : `${path}: ${kind.value} is not a JSON number (numbers must be finite)`;
    case "listValue":
      for (const [i, item] of kind.value.values.entries()) {
        const problem = unrepresentable(item, `${path}[${i}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    case "structValue":
      for (const [key, item] of Object.entries(kind.value.fields)) {
        const problem = unrepresentable(item, `${path}.${key}`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** A request's Struct field, checked to be JSON: a binary client can send NaN or Infinity in a Struct. */
export function checkedObject(config: JsonObject, field: string): JsonObject {
  const walk = (value: JsonValue, path: string): void => {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new ConnectError(`${path}: ${value} is not a JSON number (numbers must be finite)`, Code.InvalidArgument);
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  walk(config, field);
  return config;
}
