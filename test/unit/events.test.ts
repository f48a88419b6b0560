// Event filters, paths and trigger registration: pure rules, tested without Temporal.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conditionProblem, jsonEqual, matchesFilter, type EventCondition } from "../../src/events/filter.js";
import { parsePath, valueAt, type PublishedEvent } from "../../src/events/event.js";
import { EventTriggers, TriggerRegistrationError, type TriggerDefinition } from "../../src/events/index.js";
import { WorkflowOperations, type WorkflowEngine } from "../../src/operations/index.js";
import { WorkflowRegistry } from "../../src/registry/index.js";
import { SAMPLE_TRIGGERS, SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";

const event = (fields: Partial<PublishedEvent>): PublishedEvent => ({
  id: "e-1",
  source: "/shop",
  type: "order.placed",
  subject: "",
  topic: "orders",
  pubsubName: "pubsub",
  time: new Date("2026-11-24T10:00:00Z"),
  dataContentType: "application/json",
  data: { order: { id: "o-1", lines: [{ sku: "apple", qty: 2 }], tags: ["fresh"] }, region: "eu-west", vip: null },
  ...fields,
});

const at = (path: string, e = event({})) => {
  const parsed = parsePath(path);
  if ("problem" in parsed) throw new Error(parsed.problem);
  return valueAt(e, parsed.steps);
};

describe("event paths", () => {
  it("step through objects and arrays from a root attribute", () => {
    expect(at("data.order.lines.0.sku")).toBe("apple");
    expect(at("data.order.lines.1.sku")).toBeUndefined();
    expect(at("data.order.id.length")).toBeUndefined();
    expect(at("type")).toBe("order.placed");
    expect(at("time")).toBe("2026-11-24T10:00:00.000Z");
    expect(at("subject")).toBeUndefined();
    expect(at("data.constructor")).toBeUndefined();
  });

  it("refuse an unknown root and an empty step, saying which", () => {
    expect(parsePath("payload.x")).toEqual({ problem: expect.stringMatching(/must start with one of id, source, type/) });
    expect(parsePath("data..x")).toEqual({ problem: '"data..x" is not a dotted path (an empty step)' });
  });
});

describe("event filters", () => {
  const matches = (filter: Parameters<typeof matchesFilter>[0], e = event({})) => matchesFilter(filter, e);

  it("match everything when empty, and require each part that is set", () => {
    expect(matches({})).toBe(true);
    expect(matches({ types: ["order.placed", "order.paid"] })).toBe(true);
    expect(matches({ types: ["order.paid"] })).toBe(false);
    expect(matches({ topics: ["orders"], sources: ["/shop"] })).toBe(true);
    expect(matches({ topics: ["orders"], sources: ["/warehouse"] })).toBe(false);
  });

  it.each<[EventCondition, boolean]>([
    [{ path: "data.region", equals: "eu-west" }, true],
    [{ path: "data.order.lines", equals: [{ qty: 2, sku: "apple" }] }, true],
    [{ path: "data.order.lines", equals: [{ sku: "apple" }] }, false],
    [{ path: "data.region", in: ["us-east", "eu-west"] }, true],
    [{ path: "data.region", in: [] }, false],
    [{ path: "data.order.tags.0", exists: true }, true],
    [{ path: "data.vip", exists: true }, false],
    [{ path: "data.vip", exists: false }, true],
    [{ path: "data.missing", exists: false }, true],
    [{ path: "data.region", prefix: "eu-" }, true],
    [{ path: "data.order", prefix: "" }, false],
    [{ path: "data.missing", equals: null }, false],
  ])("%j holds: %s", (condition, expected) => {
    expect(conditionProblem(condition)).toBeUndefined();
    expect(matches({ conditions: [condition] })).toBe(expected);
  });

  it("require every condition", () => {
    const conditions: EventCondition[] = [
      { path: "data.region", prefix: "eu" },
      { path: "data.order.id", equals: "o-2" },
    ];
    expect(matches({ conditions })).toBe(false);
  });

  it("name what is wrong with a condition", () => {
    expect(conditionProblem({ path: "data.x" } as EventCondition)).toBe("needs exactly one of equals, in, exists, prefix (has none)");
    expect(conditionProblem({ path: "data.x", equals: 1, prefix: "a" })).toMatch(/has equals, prefix/);
    expect(conditionProblem({ path: "body.x", exists: true })).toMatch(/^path: "body.x" must start with/);
    expect(conditionProblem({ path: "data.x", in: "a" } as unknown as EventCondition)).toBe("in: must be an array of values");
  });

  it("compare JSON by content, whatever the key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = JSON.parse(JSON.stringify(value)) as typeof value;
        return jsonEqual(value as never, copy as never);
      }),
    );
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined } as never)).toBe(false);
    expect(jsonEqual([1, 2], { 0: 1, 1: 2 })).toBe(false);
  });
});

describe("trigger registration", () => {
  // Registration never calls the engine: it checks definitions against the registry.
  const operations = new WorkflowOperations({} as WorkflowEngine, new WorkflowRegistry(SAMPLE_WORKFLOW_TYPES), {
    defaultTaskQueue: "q",
    runTimeoutMs: 1000,
  });
  const register = (triggers: readonly TriggerDefinition[]) => new EventTriggers(triggers, operations);

  it("accepts the samples' trigger", () => {
    expect(register(SAMPLE_TRIGGERS).list().map((t) => t.id)).toEqual(["sample-greet"]);
  });

  it("lists every problem, one per line, naming the trigger", () => {
    const attempt = () =>
      register([
        { id: "ok", workflowType: "greet", filter: {} },
        { id: "ok", workflowType: "greet", filter: {} },
        { id: "bad id!", workflowType: "nope", filter: { conditions: [{ path: "nowhere", exists: true }] }, input: "data..x" },
      ]);
    expect(attempt).toThrow(TriggerRegistrationError);
    expect(attempt).toThrow(
      [
        "event triggers cannot be registered:",
        'trigger "ok": id: registered twice',
        'trigger "bad id!": id: must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
        'trigger "bad id!": workflowType: "nope" is not a registered workflow type (registered: approval, greet, report, shopping, sleep)',
        'trigger "bad id!": input: "data..x" is not a dotted path (an empty step)',
        'trigger "bad id!": filter.conditions[0]: path: "nowhere" must start with one of id, source, type, subject, topic, pubsubname, time, datacontenttype, data',
      ].join("\n"),
    );
  });

  it("lists one Dapr subscription per component and topic, routed to PublishEvent", () => {
    const triggers = register([
      { id: "a", workflowType: "greet", filter: { topics: ["orders", "refunds"] } },
      { id: "b", workflowType: "greet", filter: { topics: ["orders"] } },
      { id: "c", workflowType: "greet", filter: { topics: ["orders"] }, pubsubName: "kafka" },
      { id: "d", workflowType: "greet", filter: { types: ["x"] } },
    ]);
    expect(triggers.subscriptions()).toEqual([
      { pubsubname: "pubsub", topic: "orders", route: "/events/v1/event/orders" },
      { pubsubname: "pubsub", topic: "refunds", route: "/events/v1/event/refunds" },
      { pubsubname: "kafka", topic: "orders", route: "/events/v1/event/orders" },
    ]);
  });
});
