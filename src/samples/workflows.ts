// The sample workflows: workflow code, which the worker bundles into Temporal's deterministic sandbox. No
// Node built-ins here. What the API knows of them (names, schemas) is in types.ts.
import { ApplicationFailure, sleep as durableSleep } from "@temporalio/workflow";

export interface GreetInput {
  name: string;
}

export interface GreetOutput {
  greeting: string;
}

/** Greets someone by name. */
export async function greet(input: GreetInput): Promise<GreetOutput> {
  if (typeof input?.name !== "string" || input.name.trim() === "") {
    throw ApplicationFailure.nonRetryable('greet needs a non-empty "name"', "InvalidInput");
  }
  return { greeting: `Hello, ${input.name}!` };
}

export interface SleepInput {
  seconds: number;
}

export interface SleepOutput {
  slept_seconds: number;
}

/** Waits on a durable timer: survives worker and server restarts, and can be cancelled meanwhile. */
export async function sleep(input: SleepInput): Promise<SleepOutput> {
  const seconds = input?.seconds;
  if (typeof seconds !== "number" || !(seconds >= 0) || seconds > 86_400) {
    throw ApplicationFailure.nonRetryable('sleep needs "seconds" between 0 and 86400', "InvalidInput");
  }
  await durableSleep(seconds * 1000);
  return { slept_seconds: seconds };
}
