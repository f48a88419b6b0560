// An application built on Flowgate: its own workflows and activities, a handler, two event triggers and a
// config map, with a start-up hook that stores default settings. Run it with `npm run example`; the
// configuration (FLOWGATE_*, TEMPORAL_*) alone makes it embedded or served, as for `npm start`.
import { pathToFileURL } from "node:url";
import { ConfigVersionMismatchError, createFlowgate, type FlowgateOptions } from "flowgate";
import { DEFAULT_SETTINGS, orderActivities } from "./activities.js";
import { handler } from "./handler.js";

const LINE = {
  type: "object",
  required: ["sku", "quantity", "unit_price"],
  properties: { sku: { type: "string", minLength: 1 }, quantity: { type: "integer", minimum: 1 }, unit_price: { type: "number", minimum: 0 } },
};

export function createOrdersApp(env: FlowgateOptions["env"] = process.env) {
  return createFlowgate({
    env,
    workflows: new URL("./workflows.ts", import.meta.url),
    activities: ({ configs }) => orderActivities(configs),
    workflowTypes: [
      {
        name: "placeOrder",
        description: "Prices an order with the stored settings; holds large ones for review.",
        input: {
          type: "object",
          required: ["order_id", "customer", "lines"],
          properties: { order_id: { type: "string", minLength: 1 }, customer: { type: "string" }, lines: { type: "array", minItems: 1, items: LINE } },
        },
      },
      {
        name: "cancelOrder",
        description: "Records a cancellation and whether it is refunded.",
        input: { type: "object", required: ["order_id", "reason"], properties: { order_id: { type: "string" }, reason: { type: "string" } } },
      },
    ],
    handler,
    triggers: [
      { id: "order-placed", description: "Every placed order is priced.", workflowType: "placeOrder", filter: { types: ["shop.order.placed"] } },
      {
        id: "order-cancelled",
        description: "Cancellations from the web shop with a reason are recorded.",
        workflowType: "cancelOrder",
        filter: { types: ["shop.order.cancelled"], conditions: [{ path: "data.reason", exists: true }, { path: "source", prefix: "/shop/web" }] },
        input: (event) => ({ order_id: event.subject, reason: (event.data as { reason: string }).reason }),
      },
    ],
    configMaps: {
      orders: {
        title: "Order settings",
        type: "object",
        properties: {
          currency: { type: "string", enum: ["EUR", "USD"], title: "Currency" },
          discount_percent: { type: "number", minimum: 0, maximum: 100, title: "Discount (%)" },
          review_above: { type: "number", minimum: 0, title: "Hold orders above" },
          refund_reasons: { type: "array", items: { type: "string" }, title: "Refunded cancellation reasons" },
        },
      },
    },
    lifespan: {
      async startup({ configs, logger }) {
        // Only at the first start: an edited config is kept (version 0 writes only what does not exist).
        try {
          await configs.put("orders", DEFAULT_SETTINGS, { mode: "replace", expectedVersion: 0 });
          logger.info("stored the default order settings");
        } catch (err) {
          if (!(err instanceof ConfigVersionMismatchError)) throw err;
        }
      },
      shutdown({ logger }) {
        logger.info("orders app stopped");
      },
    },
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await createOrdersApp().listen();
}
