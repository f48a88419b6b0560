// EventsService on every protocol against the run's Temporal and test worker: triggers start their workflow
// once per (trigger, event id), an event no trigger wants is answered (not refused), Dapr's envelope and its
// subscription list work as Dapr reads them, and a Temporal that cannot be reached is Unavailable.
import { randomUUID } from "node:crypto";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TriggerDefinition } from "../../src/events/index.js";
import { freePort } from "../helpers/tools.js";
import { callError, eventsClient, isRestError, PROTOCOLS, workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runIdsOf } from "../helpers/temporal.js";

const json = (value: JsonValue) => fromJson(ValueSchema, value);

const TRIGGERS: readonly TriggerDefinition[] = [
  { id: "greet-on-event", workflowType: "greet", filter: { types: ["test.greet"] }, input: "data.person" },
  {
    id: "vip-greet",
    description: "Greets VIPs a second time, with the name from a nested field.",
    workflowType: "greet",
    filter: {
      types: ["test.greet"],
      conditions: [
        { path: "data.tier", in: ["gold", "platinum"] },
        { path: "data.person.name", prefix: "Dr" },
      ],
    },
    input: (event) => ({ name: `VIP ${(event.data as { person: { name: string } }).person.name}` }),
  },
  {
    id: "orders",
    workflowType: "add",
    filter: { topics: ["orders"], conditions: [{ path: "data.items.0", exists: true }] },
    input: "data.items",
    pubsubName: "shop",
  },
  { id: "strict-greet", workflowType: "greet", filter: { types: ["test.strict"] } },
];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ triggers: TRIGGERS });
});
afterAll(async () => {
  await server?.close();
});

describe.each(PROTOCOLS)("EventsService over %s", (protocol) => {
  const events = () => eventsClient(protocol, server.baseUrl);
  const workflows = () => workflowClient(protocol, server.baseUrl);

  it("starts each matching trigger's workflow, with its mapped input, and reports the runs", async () => {
    const id = `evt-${randomUUID()}`;
    const res = await events().publishEvent({
      event: { id, source: "/tests", type: "test.greet", specversion: "1.0", data: json({ person: { name: "Dr Ada" }, tier: "gold" }) },
    });
    expect(res.eventId).toBe(id);
    expect(res.status).toBe("SUCCESS");
    expect(res.fired.map((f) => [f.triggerId, f.workflowType, f.workflowId, f.alreadyStarted])).toEqual([
      ["greet-on-event", "greet", `greet-on-event:${id}`, false],
      ["vip-greet", "greet", `vip-greet:${id}`, false],
    ]);
    const [plain, vip] = res.fired;
    const result = (workflowId: string) => workflows().getWorkflowResult({ workflowId, wait: durationFromMs(20_000) });
    expect((await result(plain!.workflowId)).outcome).toMatchObject({ case: "result", value: { kind: { case: "structValue" } } });
    const plainResult = await result(plain!.workflowId);
    const vipResult = await result(vip!.workflowId);
    expect(plainResult.runId).toBe(plain!.runId);
    expect(JSON.stringify(plainResult.outcome.value)).toContain("Hello, Dr Ada!");
    expect(JSON.stringify(vipResult.outcome.value)).toContain("Hello, VIP Dr Ada!");
  });

  it("finds the run again when the same event is delivered again, open or closed", async () => {
    const id = `evt-${randomUUID()}`;
    const event = { id, type: "test.greet", data: json({ person: { name: "Grace" } }) };
    const first = await events().publishEvent({ event });
    await workflows().getWorkflowResult({ workflowId: first.fired[0]!.workflowId, wait: durationFromMs(20_000) });
    const again = await events().publishEvent({ event });
    expect(again.fired).toEqual([{ ...first.fired[0], alreadyStarted: true }]);
    expect(await runIdsOf(`greet-on-event:${id}`)).toEqual([first.fired[0]!.runId]);
  });

  it("answers an event no trigger matches with an empty list, not an error", async () => {
    const res = await events().publishEvent({ event: { id: `evt-${randomUUID()}`, type: "test.nobody-listens", data: json({}) } });
    expect(res.fired).toEqual([]);
    expect(res.status).toBe("SUCCESS");
    // A VIP condition that fails leaves only the plain trigger.
    const plain = await events().publishEvent({ event: { id: `evt-${randomUUID()}`, type: "test.greet", data: json({ person: { name: "Dr No" }, tier: "bronze" }) } });
    expect(plain.fired.map((f) => f.triggerId)).toEqual(["greet-on-event"]);
  });

  it("takes the event id from the request when the event has none, and refuses an event with neither", async () => {
    const id = `evt-${randomUUID()}`;
    const res = await events().publishEvent({ eventId: id, event: { type: "test.greet", data: json({ person: { name: "Lin" } }) } });
    expect(res.eventId).toBe(id);
    expect(res.fired[0]?.workflowId).toBe(`greet-on-event:${id}`);
    if (protocol === "rest") return; // a REST path always carries an event_id
    const err = await callError(events().publishEvent({ event: { type: "test.greet", data: json({ name: "Lin" }) } }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/event\.id: is required/);
  });

  it("refuses an event whose mapped input the workflow type refuses, naming the trigger and the field", async () => {
    const err = await callError(events().publishEvent({ event: { id: `evt-${randomUUID()}`, type: "test.strict", data: json({ nom: "x" }) } }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^trigger "strict-greet": input/);
    if (isRestError(err)) expect(err.status).toBe(400);
  });

  it("lists the triggers with their filters", async () => {
    const { triggers } = await events().listTriggers({});
    expect(triggers.map((t) => t.triggerId)).toEqual(TRIGGERS.map((t) => t.id));
    const vip = triggers[1]!;
    expect(vip.inputPath).toBe("");
    expect(vip.filter?.conditions.map((c) => [c.path, c.test.case])).toEqual([
      ["data.tier", "in"],
      ["data.person.name", "prefix"],
    ]);
    expect(triggers[2]).toMatchObject({ workflowType: "add", inputPath: "data.items", pubsubName: "shop", filter: { topics: ["orders"] } });
  });

  it("lists the Dapr subscriptions and drops events with Dapr's DROP", async () => {
    const { subscriptions } = await events().listSubscriptions({});
    expect(subscriptions.map(({ pubsubname, topic, route }) => ({ pubsubname, topic, route }))).toEqual([
      { pubsubname: "shop", topic: "orders", route: "/events/v1/event/orders" },
    ]);
    expect((await events().dropEvent({ event: { id: "dropped", type: "whatever" } })).status).toBe("DROP");
  });
});

describe("Dapr's sidecar over REST", () => {
  it("reads GET /dapr/subscribe as a bare array in its own shape", async () => {
    const res = await fetch(`${server.baseUrl}/dapr/subscribe`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ pubsubname: "shop", topic: "orders", route: "/events/v1/event/orders" }]);
  });

  it("delivers its envelope as it comes to the subscription's route, and reads SUCCESS", async () => {
    const id = randomUUID();
    const envelope = {
      id,
      source: "checkout",
      type: "com.dapr.event.sent",
      specversion: "1.0",
      datacontenttype: "application/json",
      data: { items: [2, 3] },
      topic: "orders",
      pubsubname: "shop",
      traceid: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "",
      time: "2026-11-24T10:00:00+01:00",
    };
    const res = await fetch(`${server.baseUrl}/events/v1/event/orders`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify(envelope),
    });
    const body = (await res.json()) as { status: string; event_id: string; fired: Array<{ workflow_id: string }> };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: "SUCCESS", event_id: id, fired: [{ trigger_id: "orders", workflow_id: `orders:${id}` }] });
    const result = await workflowClient("rest", server.baseUrl).getWorkflowResult({ workflowId: `orders:${id}`, wait: durationFromMs(20_000) });
    expect(result.outcome.value).toEqual(json(5));
  });

  it("answers DropEvent with {status: DROP}", async () => {
    const res = await fetch(`${server.baseUrl}/events/v1/drop`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "x", type: "y" }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "DROP" });
  });

  it("names a misspelt attribute instead of dropping it", async () => {
    const res = await fetch(`${server.baseUrl}/events/v1/event/x`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "x", tpye: "y" }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/tpye/);
  });
});

describe("with Temporal unreachable", () => {
  let down: TestServer;
  beforeAll(async () => {
    down = await startTestServer({ temporalAddress: `127.0.0.1:${await freePort()}`, triggers: TRIGGERS });
  });
  afterAll(async () => {
    await down?.close();
  });

  it("answers Unavailable (503 on REST) so the sender delivers the event again", async () => {
    const err = await callError(eventsClient("rest", down.baseUrl).publishEvent({ event: { id: "e-1", type: "test.greet", data: json({ person: { name: "x" } }) } }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/^trigger "greet-on-event": /);
    if (isRestError(err)) expect(err.status).toBe(503);
  }, 30_000);
});
