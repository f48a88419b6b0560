// The workflow registry: the workflow-types file (what it accepts, and how it reports a bad file), input
// checks against JSON Schemas, and the registration rules.
import { describe, expect, it } from "vitest";
import {
  defineWorkflowType,
  InvalidInputError,
  parseWorkflowsFile,
  parseWorkflowsFileSections,
  RegistrationError,
  UndeclaredHandlerError, UnknownWorkflowTypeError,
  WorkflowRegistry,
  WorkflowsFileError,
} from "../../src/registry/index.js";
import { SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";

const FILE = "flowgate.workflows.yaml";

/** The message a bad file stops start-up with. */
function fileError(text: string): string {
  try {
    parseWorkflowsFile(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowsFileError);
    expect(err).toBeInstanceOf(RegistrationError);
    return (err as Error).message;
  }
  throw new Error("expected the file to be refused");
}

describe("the workflow-types file", () => {
  it("reads the issue's example, with every optional part", () => {
    const [order, other] = parseWorkflowsFile(
      `workflows:
  - name: OrderWorkflow
    description: Places an order and waits for payment.
    task_queue: orders
    input: { type: object, required: [order_id], properties: { order_id: { type: string }, amount: { type: number, minimum: 0 } } }
    signals:
      - name: paid
        input: { type: object, properties: { receipt: { type: string } } }
    updates:
      - name: discount
        description: Applies a discount.
        input: { type: number }
        result: { type: number }
    args: spread
    defaults: { execution_timeout: 1h, run_timeout: 30m, task_timeout: 10s, id_reuse_policy: allow_duplicate_failed_only }
  - name: Minimal
`,
      FILE,
    );
    expect(order).toMatchObject({
      name: "OrderWorkflow",
      description: "Places an order and waits for payment.",
      taskQueue: "orders",
      args: "spread",
      signals: [{ name: "paid", description: "", input: { type: "object", properties: { receipt: { type: "string" } } }, result: undefined }],
      queries: [],
      updates: [{ name: "discount", description: "Applies a discount.", input: { type: "number" }, result: { type: "number" } }],
      defaults: { executionTimeoutMs: 3_600_000, runTimeoutMs: 1_800_000, taskTimeoutMs: 10_000, idReusePolicy: "ALLOW_DUPLICATE_FAILED_ONLY" },
      source: `${FILE}:2`,
    });
    expect(order?.input).toMatchObject({ required: ["order_id"] });
    expect(other).toMatchObject({ name: "Minimal", description: "", taskQueue: undefined, input: undefined, args: "single", source: `${FILE}:16` });
  });

  it("takes x- keys for the user's own use, and YAML merge keys", () => {
    const [a] = parseWorkflowsFile(
      "x-shared: &shared\n  task_queue: orders\n  defaults: { run_timeout: 30s }\nworkflows:\n  - name: a\n    x-owner: team-orders\n    <<: *shared\n",
      FILE,
    );
    expect(a).toMatchObject({ name: "a", taskQueue: "orders", defaults: { runTimeoutMs: 30_000 } });
  });

  it("accepts the schemas people write: ECMA-262 patterns, draft-07, repeated $ids", () => {
    const types = parseWorkflowsFile(
      `workflows:
  - name: phone
    input: { type: string, pattern: '^\\d{3}\\-\\d{4}$' }
  - name: pair
    input: { $schema: 'http://json-schema.org/draft-07/schema#', type: array, items: [{ type: number }, { type: string }], additionalItems: false }
  - name: a
    input: { $id: 'https://example.com/thing', type: string }
  - name: b
    input: { $id: 'https://example.com/thing', type: number }
`,
      FILE,
    );
    const registry = new WorkflowRegistry(types);
    expect(() => registry.checkInput(registry.resolve("phone"), "555-1234")).not.toThrow();
    expect(() => registry.checkInput(registry.resolve("phone"), "5551234")).toThrow('input: must match pattern "^\\d{3}\\-\\d{4}$"');
    expect(() => registry.checkInput(registry.resolve("pair"), [1, "x"])).not.toThrow();
    expect(() => registry.checkInput(registry.resolve("pair"), [1, "x", 3])).toThrow("input: must NOT have more than 2 items");
    expect(() => registry.checkInput(registry.resolve("b"), 3)).not.toThrow();
  });

  it("reads JSON as well", () => {
    expect(parseWorkflowsFile('{"workflows": [{"name": "a", "input": {"type": "string"}}]}', "types.json")).toMatchObject([
      { name: "a", input: { type: "string" } },
    ]);
  });

  it.each([
    ["a YAML syntax error", "workflows:\n  - name: a\n   bad: [\n", /^flowgate\.workflows\.yaml:3:\d+: /],
    ["a missing list", "types: []\n", /^flowgate\.workflows\.yaml:1:1: "workflows" is required\nflowgate\.workflows\.yaml:1:1: types: unknown key; the file holds workflows, triggers, config_maps$/],
    ["a misspelt key", "workflows:\n  - name: a\n    singals: []\n", /^flowgate\.workflows\.yaml:3:5: workflows\[0\]\.singals: unknown key; this holds name, description, task_queue, input, result, args, signals, queries, updates, defaults$/],
    ["a missing name", "workflows:\n  - description: nameless\n", /^flowgate\.workflows\.yaml:2:5: workflows\[0\]: "name" is required$/],
    ["a bad args value", "workflows:\n  - name: a\n    args: many\n", /^flowgate\.workflows\.yaml:3:11: workflows\[0\]\.args: must be one of "single", "spread"$/],
    ["a bad duration", "workflows:\n  - name: a\n    defaults:\n      run_timeout: soon\n", /^flowgate\.workflows\.yaml:4:20: workflows\[0\]\.defaults\.run_timeout: must be a duration longer than zero, such as 30s, 5m, 1h or 1500ms$/],
    ["a zero duration (Temporal reads it as no timeout)", "workflows:\n  - name: a\n    defaults: { run_timeout: 0s }\n", /workflows\[0\]\.defaults\.run_timeout: must be a duration longer than zero/],
    ["an alias without its anchor", "workflows: [*nope]\n", /^flowgate\.workflows\.yaml: Unresolved alias/],
    ["an alias bomb", `a: &a [1,2]\nb: &b [${"*a,".repeat(10)}*a]\nc: [${"*b,".repeat(100)}*b]\n`, /^flowgate\.workflows\.yaml: Excessive alias count/],
    ["an unknown format", "workflows:\n  - name: a\n    input: { type: string, format: colour }\n", /workflows\[0\]\.input: not a valid JSON Schema: unknown format "colour" in schema at path/],
    ["an unsupported dialect", "workflows:\n  - name: a\n    input: { $schema: 'http://json-schema.org/draft-04/schema#' }\n", /\$schema "http:\/\/json-schema\.org\/draft-04\/schema#" is not supported: use draft 2020-12 \(the default\) or draft-07/],
    [
      "a schema with a misspelt keyword",
      "workflows:\n  - name: a\n    input:\n      type: number\n      minimun: 1\n",
      /^flowgate\.workflows\.yaml:4:7: workflows\[0\]\.input: not a valid JSON Schema: strict mode: unknown keyword: "minimun"$/,
    ],
    [
      "a schema that breaks JSON Schema's own rules",
      "workflows:\n  - name: a\n    signals:\n      - name: s\n        input: { type: number, minimum: low }\n",
      /^flowgate\.workflows\.yaml:5:16: workflows\[0\]\.signals\[0\]\.input: not a valid JSON Schema: schema is invalid: data\/minimum must be number$/,
    ],
    ["a name listed twice", "workflows:\n  - name: a\n  - name: b\n  - name: a\n", /^flowgate\.workflows\.yaml:4:11: workflows\[2\]\.name: "a" is already listed at workflows\[0\]$/],
  ])("stops start-up on %s, naming the file, line and path", (_what, text, message) => {
    expect(fileError(text)).toMatch(message);
  });

  it("reports every problem at once, one per line", () => {
    const lines = fileError("workflows:\n  - name: a\n    args: x\n  - task_queue: q\n").split("\n");
    expect(lines).toHaveLength(2);
  });
});

describe("WorkflowRegistry", () => {
  const spread = defineWorkflowType({ name: "add", description: "", args: "spread", input: { type: "array", prefixItems: [{ type: "number" }, { type: "number" }] } });
  const registry = new WorkflowRegistry([...SAMPLE_WORKFLOW_TYPES, spread]);

  it("lists types by name and refuses an unknown one, listing the registered", () => {
    expect(registry.list().map((t) => t.name)).toEqual(["add", "approval", "greet", "report", "shopping", "sleep"]);
    expect(() => registry.resolve("gret")).toThrow(UnknownWorkflowTypeError);
    expect(() => registry.resolve("gret")).toThrow('workflow_type: "gret" is not a registered workflow type (registered: add, approval, greet, report, shopping, sleep)');
  });

  it("checks signals, queries and updates against what the type declares, and their input against its schema", () => {
    expect(() => registry.checkHandler("approval", "signal", "decision", { approved: true })).not.toThrow();
    expect(() => registry.checkHandler("approval", "signal", "decision", { approved: "yes" })).toThrow(/^input\.approved: must be boolean/);
    expect(() => registry.checkHandler("approval", "signal", "decision", undefined)).toThrow('input: is required by signal "decision"');
    expect(() => registry.checkHandler("approval", "update", "decision", { approved: 1 }, "signal_input")).toThrow(/^signal_input\.approved/);
    expect(() => registry.checkHandler("approval", "query", "decision", undefined)).toThrow(
      'query_name: "decision" is not a query of workflow type "approval" (declared: state)',
    );
    expect(() => registry.checkHandler("greet", "signal", "poke", undefined)).toThrow(UndeclaredHandlerError);
    expect(() => registry.checkHandler("unknown", "signal", "poke", undefined)).toThrow(/workflow type "unknown" is not registered/);
    const open = new WorkflowRegistry([], { allowUnregistered: true });
    expect(() => open.checkHandler("unknown", "signal", "poke", { any: 1 })).not.toThrow();
  });

  it("checks input against the type's schema, naming each failing path", () => {
    const greet = registry.resolve("greet");
    expect(() => registry.checkInput(greet, { name: "Ada" })).not.toThrow();
    const violations = (input: Parameters<WorkflowRegistry["checkInput"]>[1]) => {
      try {
        registry.checkInput(greet, input);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInputError);
        return (err as Error).message;
      }
      return "";
    };
    expect(violations(undefined)).toBe('input: is required by workflow type "greet"');
    expect(violations({ name: "" })).toBe("input.name: must NOT have fewer than 1 characters");
    expect(violations({ name: "A", "odd key": 1 })).toBe('input["odd key"]: is not allowed');
    expect(violations([1])).toBe("input: must be object");
  });

  it("wants a JSON array for a type that takes several arguments, and checks its items", () => {
    const add = registry.resolve("add");
    expect(() => registry.checkInput(add, [1, 2])).not.toThrow();
    expect(() => registry.checkInput(add, 3)).toThrow('input: must be a JSON array: workflow type "add" takes several arguments');
    expect(() => registry.checkInput(add, [1, "two"])).toThrow("input[1]: must be number");
  });

  it("lets any type through when unregistered types are allowed, unchecked", () => {
    const open = new WorkflowRegistry(SAMPLE_WORKFLOW_TYPES, { allowUnregistered: true });
    const anything = open.resolve("Anything");
    expect(anything).toMatchObject({ name: "Anything", input: undefined, taskQueue: undefined });
    expect(() => open.checkInput(anything, { whatever: true })).not.toThrow();
    expect(() => open.get("Anything")).toThrow('workflow type "Anything" is not registered');
  });

  it("refuses a name registered twice, saying by whom", () => {
    const [fromFile] = parseWorkflowsFile("workflows:\n  - name: greet\n", FILE);
    expect(() => new WorkflowRegistry([...SAMPLE_WORKFLOW_TYPES, fromFile!])).toThrow(
      'workflow type "greet" is registered twice: by sample and by flowgate.workflows.yaml:2 (set FLOWGATE_SAMPLES=false to leave the samples out)',
    );
  });

  it("refuses a schema that does not compile, naming the type", () => {
    expect(() => new WorkflowRegistry([defineWorkflowType({ name: "x", description: "", input: { type: "nothing" } })])).toThrow(
      /^workflow type "x" \(code\): input schema: /,
    );
  });
});

describe("the workflow-types file's triggers and config maps", () => {
  it("reads them into the shapes the events and config services register", () => {
    const file = parseWorkflowsFileSections(
      `workflows: []
triggers:
  - id: orders
    workflow: OrderWorkflow
    description: New orders start their workflow.
    task_queue: orders
    types: [order.placed]
    topics: [orders]
    conditions:
      - { path: data.total, exists: true }
      - { path: data.region, in: [eu, us] }
    input: data.order
    pubsub: shop
  - id: everything
    workflow: audit
config_maps:
  orders: { type: object, properties: { region: { enum: [eu, us] } } }
`,
      FILE,
    );
    expect(file.triggers).toEqual([
      {
        id: "orders",
        description: "New orders start their workflow.",
        workflowType: "OrderWorkflow",
        taskQueue: "orders",
        filter: { types: ["order.placed"], topics: ["orders"], sources: undefined, conditions: [{ path: "data.total", exists: true }, { path: "data.region", in: ["eu", "us"] }] },
        input: "data.order",
        pubsubName: "shop",
      },
      expect.objectContaining({ id: "everything", workflowType: "audit", filter: { types: undefined, topics: undefined, sources: undefined, conditions: undefined } }),
    ]);
    expect(file.configMaps).toEqual({ orders: { type: "object", properties: { region: { enum: ["eu", "us"] } } } });
  });

  it("refuses a misshapen trigger with its line", () => {
    const message = fileError(`workflows: []
triggers:
  - id: orders
    workflow: OrderWorkflow
    typs: [order.placed]
    conditions:
      - { path: data.total }
`);
    expect(message).toMatch(/^flowgate\.workflows\.yaml:5:5: triggers\[0\]\.typs: unknown key/m);
    expect(message).toMatch(/^flowgate\.workflows\.yaml:7:9: triggers\[0\]\.conditions\[0\]: /m);
  });
});

