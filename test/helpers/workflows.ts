// The test worker's workflows: the samples, plus fixtures that exercise failures and several arguments.
import { ApplicationFailure } from "@temporalio/workflow";

export { greet, sleep } from "../../src/workflows/index.js";

/** Fails with the given message, without retrying. */
export async function fail(input: { message: string }): Promise<never> {
  throw ApplicationFailure.nonRetryable(input.message, "FixtureError");
}

/** Takes two arguments: the gateway passes a JSON array input as the arguments. */
export async function add(a: number, b: number): Promise<number> {
  return a + b;
}
