// JSON Merge Patch (RFC 7396, section 2): the patch's keys replace the target's, objects merge recursively,
// null removes a key, and anything that is not an object replaces the target whole. Ten lines, exactly the
// RFC's pseudo-code, tested with the RFC's own examples (appendix A), so no dependency for it.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    // defineProperty: a "__proto__" key is data here, and assignment would set the prototype instead.
    else Object.defineProperty(result, key, { value: mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
