// The example app (examples/orders), built with the library as an application builds it, against the run's
// Temporal: its worker runs in the test's process, its configs in PGlite under a fresh data folder. What a
// user of the app relies on: the handler answers, the two triggers start their workflows, a workflow reads
// the stored config (and an edit applies to the next run), and everything stops when the app closes.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createOrdersApp } from "../../examples/orders/app.js";
import { DEMO_TOKEN } from "../../examples/orders/handler.js";
import { ConfigService } from "../../gen/flowgate/config/v1/config_service_pb.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";

let dataDir: string;
let flowgate: ReturnType<typeof createOrdersApp>;
let app: FastifyInstance;
let baseUrl: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "flowgate-example-"));
  flowgate = createOrdersApp({
    FLOWGATE_TEMPORAL_ADDRESS: inject("temporalAddress"),
    FLOWGATE_TEMPORAL_NAMESPACE: TEST_NAMESPACE,
    FLOWGATE_TASK_QUEUE: `orders-${randomUUID()}`,
    FLOWGATE_DATA_DIR: dataDir,
    FLOWGATE_LOG_LEVEL: process.env.FLOWGATE_TEST_LOG_LEVEL ?? "silent",
  });
  app = await flowgate.build();
  await app.listen({ host: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 120_000);
afterAll(async () => {
  await flowgate?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function call(method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, etag: res.headers.get("etag"), body: (await res.json()) as Record<string, unknown> };
}

/** Publishes an event and returns the runs it started. */
async function publish(type: string, data: unknown, extra: Record<string, unknown> = {}) {
  const id = `evt-${randomUUID()}`;
  const res = await call("POST", `/events/v1/event/${id}`, { id, source: "/shop/web", type, specversion: "1.0", data, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { status: string; fired?: Array<{ trigger_id: string; workflow_id: string; run_id: string }> };
}

async function resultOf(workflowId: string) {
  const res = await call("GET", `/workflows/v1/result/${encodeURIComponent(workflowId)}?wait=30s`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.result;
}

const order = (lines: Array<{ sku: string; quantity: number; unit_price: number }>) => ({ order_id: `o-${randomUUID()}`, customer: "ada", lines });

describe("the orders example", () => {
  it("stored its default settings at start-up, and serves their form", async () => {
    const stored = await call("GET", "/workflows/v1/config/orders");
    expect(stored.status).toBe(200);
    expect(stored.body.config).toEqual({ currency: "EUR", discount_percent: 0, review_above: 1000, refund_reasons: ["damaged", "late"] });
    const form = await call("GET", "/workflows/v1/configmap/orders");
    expect(form.body).toMatchObject({ config_map_id: "orders", config_map: { title: "Order settings" } });
  });

  it("answers its handler's hooks, refusing with the handler's code and message", async () => {
    expect(await call("POST", "/workflows/v1/auth", { api_token: DEMO_TOKEN })).toMatchObject({ status: 200, body: { success: true } });
    expect(await call("POST", "/workflows/v1/auth", { api_token: "nope" })).toMatchObject({
      status: 401,
      body: { code: "unauthenticated", message: "api_token: not accepted by the shop" },
    });
    expect((await call("POST", "/workflows/v1/metadata", {})).body.data).toEqual({ warehouses: ["berlin", "lisbon"], currencies: ["EUR", "USD"] });
    expect(await call("POST", "/workflows/v1/check", { lines: [] })).toMatchObject({ status: 400, body: { code: "failed_precondition" } });
  });

  it("prices a placed order with the stored config, and an edit applies to the next order", async () => {
    const first = await publish("shop.order.placed", order([{ sku: "tea", quantity: 2, unit_price: 100 }]));
    expect(first.fired).toEqual([expect.objectContaining({ trigger_id: "order-placed" })]);
    const before = (await call("GET", "/workflows/v1/config/orders")).etag;
    expect(await resultOf(first.fired![0]!.workflow_id)).toMatchObject({ status: "accepted", currency: "EUR", subtotal: 200, discount: 0, total: 200 });

    // A merge patch, on the version read: the next order gets 10 % off and is held above 150.
    const edit = await call("POST", "/workflows/v1/config/orders", { config: { discount_percent: 10, review_above: 150 }, mode: "UPDATE_MODE_MERGE_PATCH" }, {
      "if-match": before!,
    });
    expect(edit.status, JSON.stringify(edit.body)).toBe(200);
    const second = await publish("shop.order.placed", order([{ sku: "tea", quantity: 2, unit_price: 100 }]));
    expect(await resultOf(second.fired![0]!.workflow_id)).toMatchObject({
      status: "held",
      subtotal: 200,
      discount: 20,
      total: 180,
      config_version: Number(JSON.parse(edit.etag!)),
    });
  });

  it("records a web shop's cancellation, and leaves other sources' alone", async () => {
    const cancelled = await publish("shop.order.cancelled", { reason: "damaged" }, { subject: "o-17" });
    expect(cancelled.fired).toEqual([expect.objectContaining({ trigger_id: "order-cancelled" })]);
    expect(await resultOf(cancelled.fired![0]!.workflow_id)).toEqual({ order_id: "o-17", reason: "damaged", refunded: true });
    const elsewhere = await publish("shop.order.cancelled", { reason: "damaged" }, { subject: "o-18", source: "/shop/phone" });
    expect(elsewhere.fired ?? []).toEqual([]);
  });

  it("refuses an order its schema does not allow, naming the field", async () => {
    const res = await call("POST", "/workflows/v1/start", { workflow_type: "placeOrder", input: { order_id: "o-1", customer: "ada", lines: [] } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/lines/);
  });

  it("serves the same contract over gRPC", async () => {
    const configs = createClient(ConfigService, createGrpcTransport({ baseUrl }));
    const stored = await configs.getConfig({ configId: "orders" });
    expect(stored.config).toMatchObject({ currency: "EUR" });
  });
});
