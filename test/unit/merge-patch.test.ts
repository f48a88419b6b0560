// JSON Merge Patch against RFC 7396's own examples (appendix A), and a property: a patch made of the target
// itself changes nothing that has no nulls.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "@bufbuild/protobuf";
import { mergePatch } from "../../src/configs/index.js";

describe("mergePatch (RFC 7396)", () => {
  it.each<[JsonValue, JsonValue, JsonValue]>([
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [["a", "b"], ["c", "d"], ["c", "d"]],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])("%j patched with %j is %j", (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it("keeps a \"__proto__\" key as data", () => {
    const patched = mergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}') as JsonValue) as Record<string, unknown>;
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
    expect(Object.keys(patched)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("leaves the target untouched", () => {
    const target = { a: { b: 1 } };
    mergePatch(target, { a: { b: 2, c: 3 } });
    expect(target).toEqual({ a: { b: 1 } });
  });

  it("changes nothing when the patch is the null-free target itself", () => {
    const nullFree = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x === null ? 0 : x))) as JsonValue);
    fc.assert(
      fc.property(nullFree, (doc) => {
        expect(mergePatch(doc, doc)).toEqual(doc);
      }),
    );
  });
});
