// The test worker's workflows: the samples, plus fixtures that exercise failures and several arguments.
import { ApplicationFailure, condition, continueAsNew, defineSignal, setHandler } from "@temporalio/workflow";
import { reportProgress, waitForInput } from "../../src/workflow/index.js";

export { approval, greet, report, shopping, sleep } from "../../src/samples/workflows.js";

/** Fails with the given message, without retrying. */
export async function fail(input: { message: string }): Promise<never> {
  throw ApplicationFailure.nonRetryable(input.message, "FixtureError");
}

/** Takes two arguments: the gateway passes a JSON array input as the arguments. */
export async function add(a: number, b: number): Promise<number> {
  return a + b;
}

/** Continues as new `steps` times, then completes: a chain of runs under one workflow id. */
export async function chain(input: { steps: number }): Promise<{ done: true }> {
  if (input.steps > 0) await continueAsNew<typeof chain>({ steps: input.steps - 1 });
  return { done: true };
}

/** An order: sums its items. Registered from a workflow-types file in the tests, with a schema. */
export async function order(input: { order_id: string; items: { sku: string; quantity: number; price: number }[] }): Promise<{ order_id: string; total: number }> {
  return { order_id: input.order_id, total: input.items.reduce((sum, item) => sum + item.quantity * item.price, 0) };
}

/**
 * Exercises src/workflow: reports a percent just over 100, waits for a string "answer", then stays open until
 * the "finish" signal, so a test can send a late answer.
 */
export async function answer(): Promise<{ value: string; via: string } | undefined> {
  let finished = false;
  setHandler(defineSignal("finish"), () => {
    finished = true;
  });
  reportProgress({ step: "asking", percent: 100.4 });
  const got = await waitForInput<string>("answer", {
    prompt: "Say something",
    validate: (value) => {
      if (typeof value !== "string") throw new Error("a string, please");
    },
  });
  await condition(() => finished);
  return got;
}
