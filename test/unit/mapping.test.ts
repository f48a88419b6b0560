// REST -> request JSON, on the real WorkflowService descriptors.
import { fromJson } from "@bufbuild/protobuf";
import { ConnectError, Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { buildRequestJson, httpBindings } from "../../src/server/rest/mapping.js";

const { startWorkflow, getWorkflowStatus, getWorkflowResult, stopWorkflow } = WorkflowService.method;

function invalidMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    return (err as ConnectError).rawMessage;
  }
  throw new Error("expected InvalidArgument");
}

describe("httpBindings", () => {
  it("reads the rule and its additional bindings", () => {
    const bindings = httpBindings(getWorkflowStatus).map((b) => [b.httpMethod, b.template.template, b.body]);
    expect(bindings).toEqual([
      ["GET", "/workflows/v1/status/{workflow_id}/{run_id}", ""],
      ["GET", "/workflows/v1/status/{workflow_id}", ""],
    ]);
    expect(httpBindings(startWorkflow).map((b) => [b.httpMethod, b.template.routePath, b.body])).toEqual([
      ["POST", "/workflows/v1/start", "*"],
    ]);
  });
});

describe("buildRequestJson", () => {
  const [start] = httpBindings(startWorkflow);
  const [resultWithRun, result] = httpBindings(getWorkflowResult);
  const [stopWithRun] = httpBindings(stopWorkflow);

  it("takes the whole body for body: *", () => {
    const json = buildRequestJson(startWorkflow.input, start!, new Map(), {}, { workflow_type: "greet", input: { name: "Ada" } });
    expect(fromJson(startWorkflow.input, json)).toMatchObject({ workflowType: "greet" });
  });

  it("treats an empty body as an empty request", () => {
    expect(buildRequestJson(startWorkflow.input, start!, new Map(), {}, undefined)).toEqual({});
  });

  it("lets path variables win over the body, in either spelling", () => {
    const json = buildRequestJson(
      stopWorkflow.input,
      stopWithRun!,
      new Map([["workflow_id", "from-path"], ["run_id", "r1"]]),
      {},
      { workflowId: "from-body", terminate: true },
    );
    expect(json).toEqual({ workflow_id: "from-path", run_id: "r1", terminate: true });
  });

  it("sets fields from the query when the body is not *", () => {
    const json = buildRequestJson(getWorkflowResult.input, result!, new Map([["workflow_id", "wf"]]), { wait: "30s" }, undefined);
    expect(fromJson(getWorkflowResult.input, json).wait).toMatchObject({ seconds: 30n });
  });

  it("ignores a query parameter that repeats a path variable", () => {
    const json = buildRequestJson(getWorkflowResult.input, resultWithRun!, new Map([["workflow_id", "wf"], ["run_id", "r"]]), { run_id: "other" }, undefined);
    expect(json.run_id).toBe("r");
  });

  it("rejects unknown query parameters, repeated single values, and query on body: *", () => {
    expect(invalidMessage(() => buildRequestJson(getWorkflowResult.input, result!, new Map(), { colour: "red" }, undefined))).toBe(
      'unknown query parameter "colour"',
    );
    expect(invalidMessage(() => buildRequestJson(getWorkflowResult.input, result!, new Map(), { wait: ["1s", "2s"] }, undefined))).toMatch(
      /given 2 times/,
    );
    expect(invalidMessage(() => buildRequestJson(startWorkflow.input, start!, new Map(), { workflow_type: "greet" }, {}))).toMatch(
      /takes its fields from the body/,
    );
  });

  it("rejects a body that is not an object, and a body where the route takes none", () => {
    expect(invalidMessage(() => buildRequestJson(startWorkflow.input, start!, new Map(), {}, [1]))).toBe("request body must be a JSON object");
    expect(invalidMessage(() => buildRequestJson(getWorkflowResult.input, result!, new Map(), {}, { a: 1 }))).toMatch(/takes no request body/);
  });

  it("converts booleans from the URL and refuses anything else", () => {
    const [, stopLatest] = httpBindings(stopWorkflow);
    const noBody = { ...stopLatest!, body: "" };
    expect(buildRequestJson(stopWorkflow.input, noBody, new Map(), { terminate: "true" }, undefined)).toEqual({ terminate: true });
    expect(invalidMessage(() => buildRequestJson(stopWorkflow.input, noBody, new Map(), { terminate: "yes" }, undefined))).toMatch(
      /"terminate" must be true or false/,
    );
  });

  it("sets a google.protobuf.Value field from the URL as a JSON string", () => {
    expect(buildRequestJson(startWorkflow.input, { ...start!, body: "" }, new Map(), { input: "x" }, undefined)).toEqual({ input: "x" });
  });
});
