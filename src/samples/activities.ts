// The sample workflows' activities: ordinary Node code the worker runs outside the workflow sandbox, where
// a real application would call a shop's API or write a file. Temporal retries them on failure.
import { Context } from "@temporalio/activity";
import { ApplicationFailure } from "@temporalio/common";
import { REPORT_FLAKY_SECTION, type Fruit, type OrderLine } from "./schemas.js";

/** Price of one fruit, in cents. */
const PRICE_CENTS: Readonly<Record<Fruit, number>> = { APPLE: 99, BANANA: 25, CHERRY: 15, ORANGE: 79, PEAR: 89 };

export interface PricedLine extends OrderLine {
  cents: number;
}

/** Prices each line from the price table. */
export async function priceItems(items: readonly OrderLine[]): Promise<PricedLine[]> {
  return items.map((item) => {
    const price = PRICE_CENTS[item.fruit] as number | undefined;
    // Retrying cannot make an unknown fruit known.
    if (price === undefined) throw ApplicationFailure.nonRetryable(`no price for ${String(item.fruit)}`, "UnknownFruit");
    return { ...item, cents: price * item.amount };
  });
}

/** Places the order; its id comes from the workflow id, so a retried placement is the same order. */
export async function placeOrder(_lines: readonly PricedLine[]): Promise<string> {
  const { workflowExecution, activityId } = Context.current().info;
  return `order-${workflowExecution?.workflowId ?? activityId}`;
}

/** Writes one section of a report. The flaky section fails its first attempt, to show a retry. */
export async function writeSection(section: { index: number; of: number }): Promise<string> {
  if (section.index === REPORT_FLAKY_SECTION && Context.current().info.attempt === 1) {
    throw new Error(`section ${section.index}: the first attempt fails on purpose, so Temporal retries it`);
  }
  return `Section ${section.index} of ${section.of}`;
}
