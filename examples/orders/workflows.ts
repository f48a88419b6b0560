// The example's workflows: Temporal bundles this module for the worker, so it imports only
// @temporalio/workflow and types. Both read the stored "orders" config through an activity, so an edit
// through ConfigService applies to the next run without a restart.
import { proxyActivities } from "@temporalio/workflow";
import type { OrderActivities } from "./activities.js";

const { orderSettings } = proxyActivities<OrderActivities>({ startToCloseTimeout: "10 seconds", retry: { maximumAttempts: 3 } });

export interface OrderLine {
  sku: string;
  quantity: number;
  unit_price: number;
}

export interface Order {
  order_id: string;
  customer: string;
  lines: OrderLine[];
}

export interface PricedOrder {
  order_id: string;
  status: "accepted" | "held";
  currency: string;
  subtotal: number;
  discount: number;
  total: number;
  /** The version of the "orders" config the prices came from. */
  config_version: number;
  reason?: string;
}

/** Prices an order with the stored settings; holds it for review when it exceeds the limit. */
export async function placeOrder(order: Order): Promise<PricedOrder> {
  const settings = await orderSettings();
  const subtotal = cents(order.lines.reduce((sum, line) => sum + line.quantity * line.unit_price, 0));
  const discount = cents((subtotal * settings.discount_percent) / 100);
  const total = cents(subtotal - discount);
  const priced = { order_id: order.order_id, currency: settings.currency, subtotal, discount, total, config_version: settings.version };
  if (total > settings.review_above) {
    return { ...priced, status: "held", reason: `total ${total} ${settings.currency} is above ${settings.review_above}: held for review` };
  }
  return { ...priced, status: "accepted" };
}

export interface Cancellation {
  order_id: string;
  reason: string;
}

/** Records a cancellation, and whether the stored settings refund it. */
export async function cancelOrder(cancellation: Cancellation): Promise<Cancellation & { refunded: boolean }> {
  const settings = await orderSettings();
  return { ...cancellation, refunded: settings.refund_reasons.includes(cancellation.reason) };
}

function cents(amount: number): number {
  return Math.round(amount * 100) / 100;
}
