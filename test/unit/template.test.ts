import { describe, expect, it } from "vitest";
import { compileTemplate, TemplateError } from "../../src/server/rest/template.js";

describe("compileTemplate", () => {
  it("compiles one-segment variables into Fastify params", () => {
    const t = compileTemplate("/workflows/v1/status/{workflow_id}/{run_id}");
    expect(t.routePath).toBe("/workflows/v1/status/:p0/:p1");
    expect([...t.bind({ p0: "wf", p1: "run" })]).toEqual([
      ["workflow_id", "wf"],
      ["run_id", "run"],
    ]);
    expect(t.pattern.test("/workflows/v1/status/a/b")).toBe(true);
    expect(t.pattern.test("/workflows/v1/status/a")).toBe(false);
  });

  it("binds nested field paths", () => {
    const t = compileTemplate("/v1/{parent.name}/items");
    expect(t.variables[0]?.fieldPath).toEqual(["parent", "name"]);
    expect(t.bind({ p0: "x" }).get("parent.name")).toBe("x");
  });

  it("binds multi-segment variables to the matched path text", () => {
    const t = compileTemplate("/v1/{name=shelves/*/books/*}");
    expect(t.routePath).toBe("/v1/shelves/:p0/books/:p1");
    expect(t.bind({ p0: "1", p1: "2" }).get("name")).toBe("shelves/1/books/2");
  });

  it("binds the rest of the path with **", () => {
    const t = compileTemplate("/files/{path=**}");
    expect(t.routePath).toBe("/files/*");
    expect(t.bind({ "*": "a/b/c.txt" }).get("path")).toBe("a/b/c.txt");
    expect(t.pattern.test("/files/a/b/c.txt")).toBe(true);
  });

  it.each([
    ["workflows/v1", /must start with/],
    ["/v1/{name", /unbalanced/],
    ["/v1/{a}/{a}", /bound twice/],
    ["/v1/{bad-name}", /bad field path/],
    ["/v1/**/x", /must be the last/],
    ["/v1//x", /empty segment/],
    ["/v1/{name}:cancel", /custom verbs/],
  ])("rejects %s", (template, message) => {
    expect(() => compileTemplate(template)).toThrow(TemplateError);
    expect(() => compileTemplate(template)).toThrow(message);
  });
});
