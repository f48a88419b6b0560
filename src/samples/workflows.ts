// The sample workflows: workflow code, which the worker bundles into Temporal's deterministic sandbox. No
// Node built-ins here. What the API knows of them (names, schemas) is in types.ts.
import { ApplicationFailure, defineQuery, proxyActivities, setHandler, sleep as durableSleep } from "@temporalio/workflow";
import { reportProgress, waitForInput } from "../workflow/index.js";
import type * as activities from "./activities.js";
import {
  APPROVAL_DEFAULT_REQUEST,
  APPROVAL_DEFAULT_TIMEOUT_SECONDS,
  APPROVAL_MAX_TIMEOUT_SECONDS,
  DECISION_SCHEMA,
  FRUITS,
  MAX_AMOUNT,
  REPORT_DEFAULT_STEP_SECONDS,
  REPORT_DEFAULT_STEPS,
  REPORT_MAX_STEP_SECONDS,
  REPORT_MAX_STEPS,
  SHOPPING_DEFAULT_ITEMS,
  type OrderLine,
} from "./schemas.js";

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

const { priceItems, placeOrder } = proxyActivities<typeof activities>({ startToCloseTimeout: "10 seconds" });
// A quick first retry, so the report's deliberate failure costs a second, not the default's backoff.
const { writeSection } = proxyActivities<typeof activities>({
  startToCloseTimeout: "10 seconds",
  retry: { initialInterval: "1 second", backoffCoefficient: 2, maximumAttempts: 5 },
});

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, "InvalidInput");
}

export interface ShoppingInput {
  items?: OrderLine[];
}

/** Prices a basket of fruit and orders it: {"items": [{"fruit": "APPLE", "amount": 5}]} -> "Ordered 5 Apples for $4.95". */
export async function shopping(input?: ShoppingInput): Promise<string> {
  const items = input?.items ?? SHOPPING_DEFAULT_ITEMS;
  if (!Array.isArray(items) || items.length === 0) throw invalid('shopping needs a non-empty "items" list');
  for (const item of items) {
    if (!FRUITS.includes(item?.fruit)) throw invalid(`shopping sells ${FRUITS.join(", ")}, not ${JSON.stringify(item?.fruit)}`);
    if (!Number.isInteger(item.amount) || item.amount < 1 || item.amount > MAX_AMOUNT) {
      throw invalid(`shopping needs an "amount" from 1 to ${MAX_AMOUNT}, not ${JSON.stringify(item.amount)}`);
    }
  }
  const basket = listed(items.map((item) => `${item.amount} ${fruitName(item.fruit, item.amount)}`));
  reportProgress({ step: "pricing", percent: 0, message: `pricing ${basket}` });
  const priced = await priceItems(items);
  const total = dollars(priced.reduce((sum, line) => sum + line.cents, 0));
  reportProgress({ step: "ordering", percent: 50, message: `ordering ${basket} for ${total}` });
  const orderId = await placeOrder(priced);
  reportProgress({ step: "ordered", percent: 100, message: `${orderId} placed` });
  return `Ordered ${basket} for ${total}`;
}

/** "APPLE", 5 -> "Apples"; "CHERRY", 2 -> "Cherries". */
function fruitName(fruit: string, amount: number): string {
  const one = fruit.charAt(0) + fruit.slice(1).toLowerCase();
  if (amount === 1) return one;
  return one.endsWith("y") ? `${one.slice(0, -1)}ies` : `${one}s`;
}

/** ["a", "b", "c"] -> "a, b and c". */
function listed(parts: readonly string[]): string {
  return parts.length <= 1 ? parts.join("") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

function dollars(cents: number): string {
  return `$${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
}

export interface ApprovalInput {
  request?: string;
  timeout_seconds?: number;
}

export interface Decision {
  approved: boolean;
  comment?: string;
}

export interface ApprovalOutput extends Decision {
  decided_by: "signal" | "update" | "timeout";
}

export interface ApprovalState {
  status: "waiting" | "approved" | "rejected" | "timed_out";
  request: string;
  comment?: string;
}

const approvalState = defineQuery<ApprovalState>("state");

/** Throws to refuse a decision: an update is rejected with the message, a signal ignored. */
function checkDecision(decision: Decision): void {
  if (decision === null || typeof decision !== "object" || typeof decision.approved !== "boolean") {
    throw new Error('a decision is {"approved": true or false, "comment": "..."}');
  }
  if (decision.comment !== undefined && typeof decision.comment !== "string") throw new Error("a comment is a string");
  if (!decision.approved && (decision.comment ?? "").trim() === "") throw new Error("a rejection needs a comment");
}

/**
 * Waits for a person to approve or reject a request, by the "decision" signal or update; no decision within
 * `timeout_seconds` is a rejection. The "state" query tells where it stands.
 */
export async function approval(input?: ApprovalInput): Promise<ApprovalOutput> {
  const request = input?.request ?? APPROVAL_DEFAULT_REQUEST;
  const seconds = input?.timeout_seconds ?? APPROVAL_DEFAULT_TIMEOUT_SECONDS;
  if (typeof request !== "string") throw invalid('approval needs "request" as a string');
  if (typeof seconds !== "number" || !(seconds >= 1) || seconds > APPROVAL_MAX_TIMEOUT_SECONDS) {
    throw invalid(`approval needs "timeout_seconds" from 1 to ${APPROVAL_MAX_TIMEOUT_SECONDS}`);
  }
  let state: ApprovalState = { status: "waiting", request };
  setHandler(approvalState, () => state);

  reportProgress({ step: "waiting for a decision", message: `waiting up to ${seconds} s for a decision on ${request}` });
  const answer = await waitForInput<Decision>("decision", {
    prompt: `Approve ${request}? A rejection needs a comment.`,
    schema: DECISION_SCHEMA,
    timeout: seconds * 1000,
    validate: checkDecision,
  });
  // Only the fields the schema names: a signal sent straight to Temporal may carry more.
  const decision: ApprovalOutput =
    answer === undefined
      ? { approved: false, comment: `no decision within ${seconds} s`, decided_by: "timeout" }
      : { approved: answer.value.approved, ...(answer.value.comment === undefined ? {} : { comment: answer.value.comment }), decided_by: answer.via };
  state = {
    status: answer === undefined ? "timed_out" : decision.approved ? "approved" : "rejected",
    request,
    ...(decision.comment === undefined ? {} : { comment: decision.comment }),
  };
  reportProgress({ step: state.status, percent: 100, message: answer === undefined ? decision.comment : `${state.status} by ${answer.via}` });
  return decision;
}

export interface ReportInput {
  steps?: number;
  step_seconds?: number;
}

export interface ReportOutput {
  sections: string[];
  steps: number;
}

/**
 * Writes a report section by section, with a durable pause between sections: the streaming showcase. It
 * reports progress at each section, and section 2's first write fails, so its history shows a retry.
 */
export async function report(input?: ReportInput): Promise<ReportOutput> {
  const steps = input?.steps ?? REPORT_DEFAULT_STEPS;
  const stepSeconds = input?.step_seconds ?? REPORT_DEFAULT_STEP_SECONDS;
  if (!Number.isInteger(steps) || steps < 1 || steps > REPORT_MAX_STEPS) throw invalid(`report needs "steps" from 1 to ${REPORT_MAX_STEPS}`);
  if (typeof stepSeconds !== "number" || !(stepSeconds >= 0) || stepSeconds > REPORT_MAX_STEP_SECONDS) {
    throw invalid(`report needs "step_seconds" from 0 to ${REPORT_MAX_STEP_SECONDS}`);
  }
  const sections: string[] = [];
  for (let index = 1; index <= steps; index++) {
    if (index > 1 && stepSeconds > 0) await durableSleep(stepSeconds * 1000);
    reportProgress({ step: `section ${index}`, percent: Math.round(((index - 1) / steps) * 100), message: `writing section ${index} of ${steps}` });
    sections.push(await writeSection({ index, of: steps }));
  }
  reportProgress({ step: "done", percent: 100, message: `${steps} sections written` });
  return { sections, steps };
}
