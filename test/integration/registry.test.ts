// The workflow registry through the API, on every protocol: ListWorkflowTypes / GetWorkflowType show what
// may be started with its schemas, and an input that breaks its type's schema is refused at the edge,
// naming the path, before anything reaches Temporal. Types come from a workflow-types file, as a user's do.
import { randomUUID } from "node:crypto";
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { durationMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ViolationsSchema } from "../../gen/buf/validate/validate_pb.js";
import { WorkflowArgs, WorkflowIdReusePolicy, WorkflowStatus } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import { parseWorkflowsFile } from "../../src/registry/index.js";
import { SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";
import { HTTP_STATUS_BY_CODE } from "../../src/server/index.js";
import { TEST_TASK_QUEUE, TEST_WORKFLOWS } from "../helpers/constants.js";
import { callError, isRestError, PROTOCOLS, workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { historyOf } from "../helpers/temporal.js";

const TYPES_FILE = `
workflows:
  - name: order
    description: Sums an order's items.
    input:
      type: object
      required: [order_id, items]
      properties:
        order_id: { type: string, minLength: 1 }
        items:
          type: array
          minItems: 1
          items:
            type: object
            required: [sku, quantity, price]
            properties:
              sku: { type: string }
              quantity: { type: integer, minimum: 1 }
              price: { type: number, minimum: 0 }
    result: { type: object, properties: { total: { type: number } } }
    signals:
      - name: paid
        description: Payment arrived.
        input: { type: object, properties: { receipt: { type: string } } }
    queries:
      - name: total
        result: { type: number }
    defaults:
      run_timeout: 90s
      id_reuse_policy: reject_duplicate
`;

let server: TestServer;
let openServer: TestServer;
beforeAll(async () => {
  const fromFile = parseWorkflowsFile(TYPES_FILE, "flowgate.workflows.yaml");
  [server, openServer] = await Promise.all([
    startTestServer({ workflowTypes: [...TEST_WORKFLOWS, ...fromFile] }),
    startTestServer({ registry: { allowUnregistered: true } }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.close(), openServer?.close()]);
});

const json = (value: JsonValue) => fromJson(ValueSchema, value);
const goodOrder = { order_id: "o-1", items: [{ sku: "a", quantity: 2, price: 3 }, { sku: "b", quantity: 1, price: 4 }] };

describe.each(PROTOCOLS)("the registry over %s", (protocol) => {
  const client = () => workflowClient(protocol, server.baseUrl);

  async function expectInvalid(promise: Promise<unknown>, message: string | RegExp) {
    const err = await callError(promise);
    expect(err.code, err.rawMessage).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(message);
    if (isRestError(err)) expect(err.status).toBe(HTTP_STATUS_BY_CODE[Code.InvalidArgument]);
    return err;
  }

  it("lists the registered types with their schemas, handlers and defaults", async () => {
    const res = await client().listWorkflowTypes({});
    expect(res.allowUnregistered).toBe(false);
    expect(res.workflowTypes.map((t) => t.name)).toEqual(["add", "approval", "chain", "fail", "greet", "order", "report", "shopping", "sleep"]);
    const greet = res.workflowTypes.find((t) => t.name === "greet")!;
    expect(toJson(ValueSchema, greet.inputSchema!)).toEqual(SAMPLE_WORKFLOW_TYPES[0]!.input);
    expect(greet.taskQueue).toBe(TEST_TASK_QUEUE); // the server's default queue, since the type names none
    expect(greet.args).toBe(WorkflowArgs.SINGLE);
    expect(res.workflowTypes.find((t) => t.name === "add")?.args).toBe(WorkflowArgs.SPREAD);
    const order = res.workflowTypes.find((t) => t.name === "order")!;
    expect(order.signals.map((s) => [s.name, s.description, toJson(ValueSchema, s.inputSchema!)])).toEqual([
      ["paid", "Payment arrived.", { type: "object", properties: { receipt: { type: "string" } } }],
    ]);
    expect(order.queries.map((q) => [q.name, toJson(ValueSchema, q.resultSchema!)])).toEqual([["total", { type: "number" }]]);
    expect(Number(durationMs(order.defaults!.runTimeout!))).toBe(90_000);
    expect(order.defaults!.idReusePolicy).toBe(WorkflowIdReusePolicy.REJECT_DUPLICATE);
  });

  it("describes one type, and answers NotFound for a type that is not registered", async () => {
    const res = await client().getWorkflowType({ name: "order" });
    expect(res.workflowType).toMatchObject({ name: "order", description: "Sums an order's items." });
    expect(toJson(ValueSchema, res.workflowType!.resultSchema!)).toEqual({ type: "object", properties: { total: { type: "number" } } });
    const err = await callError(client().getWorkflowType({ name: "nope" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toMatch(/^workflow type "nope" is not registered \(registered: add, approval, chain, fail, greet, order, report, shopping, sleep\)$/);
  });

  it("starts a type from the file with a valid input, applying its defaults", async () => {
    const res = await client().runWorkflow({ workflowType: "order", input: json(goodOrder) });
    expect(res.status).toBe(WorkflowStatus.COMPLETED);
    expect(res.outcome.case === "result" && toJson(ValueSchema, res.outcome.value)).toEqual({ order_id: "o-1", total: 10 });
    const started = (await historyOf(res.workflowId, res.runId))[0]?.workflowExecutionStartedEventAttributes;
    expect(Number(started?.workflowRunTimeout?.seconds)).toBe(90);
  });

  it("refuses an input that breaks the schema, naming each path, with buf.validate details", async () => {
    const bad = { order_id: "", items: [{ sku: "a", quantity: 1, price: 1 }, { sku: "b", quantity: 1, price: 1 }, { sku: "c", quantity: 0, price: 1 }] };
    const err = await expectInvalid(
      client().startWorkflow({ workflowType: "order", input: json(bad) }),
      /^input\.order_id: must NOT have fewer than 1 characters; input\.items\[2\]\.quantity: must be >= 1$/,
    );
    // The details name the same paths in the structured form protovalidate uses (only where the body carries them).
    const violations = err.findDetails(ViolationsSchema)[0]?.violations;
    if (violations !== undefined) {
      expect(violations.map((v) => [v.field?.elements.map((e) => e.fieldName).join("."), v.ruleId])).toEqual([
        ["input.order_id", "json_schema.minLength"],
        ["input.items.quantity", "json_schema.minimum"],
      ]);
      expect(violations[1]?.field?.elements[1]?.subscript).toEqual({ case: "index", value: 2n });
    }
  });

  it("refuses a missing input, a missing field and a wrong type, naming them", async () => {
    await expectInvalid(client().startWorkflow({ workflowType: "greet" }), 'input: is required by workflow type "greet"');
    await expectInvalid(client().startWorkflow({ workflowType: "greet", input: json({}) }), /^input\.name: is required$/);
    await expectInvalid(client().runWorkflow({ workflowType: "greet", input: json({ name: 7 }) }), /^input\.name: must be string$/);
    await expectInvalid(client().startWorkflow({ workflowType: "greet", input: json({ name: "A", colour: "red" }) }), /^input\.colour: is not allowed$/);
  });

  it("refuses before anything reaches Temporal", async () => {
    const workflowId = `refused-${protocol}-${randomUUID()}`;
    await expectInvalid(client().startWorkflow({ workflowType: "sleep", workflowId, input: json({ seconds: -1 }) }), /^input\.seconds: must be >= 0$/);
    expect((await callError(client().getWorkflowStatus({ workflowId }))).code).toBe(Code.NotFound);
  });

  it("with unregistered types allowed, starts any type, unchecked, and says so", async () => {
    const open = workflowClient(protocol, openServer.baseUrl);
    expect((await open.listWorkflowTypes({})).allowUnregistered).toBe(true);
    // On a queue no worker polls: the test worker would try (and fail) to run a type it does not have.
    const taskQueue = `nobody-${randomUUID()}`;
    const { workflowId, runId } = await open.startWorkflow({ workflowType: "NoSuchTypeAnywhere", taskQueue, input: json({ any: "thing" }) });
    const status = await open.getWorkflowStatus({ workflowId, runId });
    expect(status).toMatchObject({ workflowType: "NoSuchTypeAnywhere", taskQueue, status: WorkflowStatus.RUNNING });
    await open.stopWorkflow({ workflowId, terminate: true });
    // Registered types are still checked.
    await expectInvalid(open.startWorkflow({ workflowType: "greet", input: json({}) }), /^input\.name: is required$/);
  });
});
