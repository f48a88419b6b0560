// Event triggers: each starts its workflow for the events its filter matches, at most once per event id.
// The workflow id is derived from the trigger and the event id, and may never be reused, so Temporal itself
// refuses a second run, whichever replica receives the event and however often it is redelivered, for as
// long as the namespace keeps the run (its retention period). No state of Flowgate's own is needed for that.
import type { JsonValue } from "@bufbuild/protobuf";
import { ErrorContext } from "../errors/index.js";
import { WorkflowAlreadyStartedError, type CallBound, type RunRef, type StartOptions, type WorkflowOperations } from "../operations/index.js";
import type { WorkflowRegistry } from "../registry/index.js";
import { InvalidEventError, TriggerRegistrationError } from "./errors.js";
import { parsePath, valueAt, type PublishedEvent } from "./event.js";
import { conditionProblem, matchesFilter, type EventFilter } from "./filter.js";

/** What an application registers: which events start which workflow, with which input. */
export interface TriggerDefinition {
  /** Unique; letters, digits, `.`, `_`, `-`. Part of every workflow id it derives: "<id>:<event id>". */
  readonly id: string;
  readonly description?: string;
  /** A registered workflow type. */
  readonly workflowType: string;
  /** Absent: the workflow type's queue, else the server's default. */
  readonly taskQueue?: string;
  readonly filter: EventFilter;
  /**
   * The workflow's input: the value at a dotted path of the event (default "data"), or computed from the
   * event. Undefined starts the workflow without input.
   */
  readonly input?: string | ((event: PublishedEvent) => JsonValue | undefined);
  /** Dapr pub/sub component whose `filter.topics` Dapr delivers to Flowgate (ListSubscriptions); default "pubsub". */
  readonly pubsubName?: string;
}

/** A matching trigger's start: the run it made, or found made by an earlier delivery of the same event. */
export interface FiredTrigger extends RunRef {
  /** true for the one delivery whose start made the run; false for every delivery that found it made. */
  readonly started: boolean;
  readonly triggerId: string;
  readonly workflowType: string;
}

/** Dapr's programmatic subscription entry, as GET /dapr/subscribe returns it. */
export interface DaprSubscription {
  readonly pubsubname: string;
  readonly topic: string;
  readonly route: string;
}

const TRIGGER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const DEFAULT_PUBSUB = "pubsub";
/** Where Dapr delivers a topic's events: PublishEvent's REST path, with the topic as its last step. */
const ROUTE_PREFIX = "/events/v1/event/";

export class EventTriggers {
  private readonly triggers: readonly TriggerDefinition[];

  /** Checks every trigger (checkTriggers); throws TriggerRegistrationError listing each problem, one per line. */
  constructor(
    triggers: readonly TriggerDefinition[],
    private readonly operations: WorkflowOperations,
    /** Told of each trigger fired (for the metrics): whether it started its run or found it started. */
    private readonly onFired: (fired: FiredTrigger) => void = () => undefined,
  ) {
    checkTriggers(triggers, operations.registry);
    this.triggers = triggers;
  }

  list(): readonly TriggerDefinition[] {
    return this.triggers;
  }

  /** One subscription per (component, topic) the triggers name, in the order they first appear. */
  subscriptions(): DaprSubscription[] {
    const seen = new Map<string, DaprSubscription>();
    for (const trigger of this.triggers) {
      const pubsubname = trigger.pubsubName ?? DEFAULT_PUBSUB;
      for (const topic of trigger.filter.topics ?? []) {
        const key = JSON.stringify([pubsubname, topic]);
        if (!seen.has(key)) seen.set(key, { pubsubname, topic, route: ROUTE_PREFIX + encodeURIComponent(topic) });
      }
    }
    return [...seen.values()];
  }

  /**
   * Starts the workflow of every trigger the event matches, all at once. When any start fails the call fails
   * (with the first failure, naming its trigger) so the sender delivers again; the starts that succeeded are
   * then found, not repeated.
   */
  async publish(event: PublishedEvent, bound: CallBound, caller?: string): Promise<FiredTrigger[]> {
    if (event.id === "") throw new InvalidEventError("event.id: is required (in the event, or as the path's event_id): triggers deduplicate on it");
    const matched = this.triggers.filter((t) => matchesFilter(t.filter, event));
    const results = await Promise.allSettled(matched.map((t) => this.fire(t, event, bound, caller)));
    const failed = results.findIndex((r) => r.status === "rejected");
    if (failed >= 0) throw new ErrorContext(`trigger "${matched[failed]!.id}"`, (results[failed] as PromiseRejectedResult).reason);
    return results.map((r) => (r as PromiseFulfilledResult<FiredTrigger>).value);
  }

  /**
   * Starts the trigger's run for the event, or finds it. The workflow id is the (trigger, event id) key and
   * its reuse policy REJECT_DUPLICATE, so the id holds one run ever: of concurrent deliveries exactly one
   * start succeeds (and reports `started`); every other one is refused as already started, open or closed,
   * and answers with the run it finds there.
   */
  private async fire(trigger: TriggerDefinition, event: PublishedEvent, bound: CallBound, caller: string | undefined): Promise<FiredTrigger> {
    const workflowId = `${trigger.id}:${event.id}`;
    const fired = { triggerId: trigger.id, workflowType: trigger.workflowType, workflowId };
    try {
      const run = await this.operations.start(
        {
          workflowType: trigger.workflowType,
          workflowId,
          taskQueue: trigger.taskQueue ?? "",
          input: inputOf(trigger, event),
          requestId: "",
          options: { ...NO_OPTIONS, idReusePolicy: "REJECT_DUPLICATE" },
          caller,
        },
        bound,
      );
      const result = { ...fired, runId: run.runId, started: true };
      this.onFired(result);
      return result;
    } catch (err) {
      if (!(err instanceof WorkflowAlreadyStartedError)) throw err;
      const existing = await this.operations.status({ workflowId, runId: "" }, bound);
      const result = { ...fired, runId: existing.runId, started: false };
      this.onFired(result);
      return result;
    }
  }
}

const NO_OPTIONS: StartOptions = {
  memo: {},
  searchAttributes: {},
  idConflictPolicy: undefined,
  idReusePolicy: undefined,
  executionTimeoutMs: undefined,
  runTimeoutMs: undefined,
  taskTimeoutMs: undefined,
  retry: undefined,
  startDelayMs: undefined,
};

/**
 * Throws TriggerRegistrationError listing every problem of the triggers, one per line: an id that is not one
 * or is used twice, an unregistered workflow type, a bad input path, a bad condition.
 */
export function checkTriggers(triggers: readonly TriggerDefinition[], registry: WorkflowRegistry): void {
  const problems = triggers.flatMap((t, i) => triggerProblems(t, i, triggers, registry));
  if (problems.length > 0) throw new TriggerRegistrationError(`event triggers cannot be registered:\n${problems.join("\n")}`);
}

/** The input path a trigger lists (its own, or "data"); "" when its input is computed in code. */
export function inputPathOf(trigger: TriggerDefinition): string {
  return typeof trigger.input === "function" ? "" : (trigger.input ?? "data");
}

function inputOf(trigger: TriggerDefinition, event: PublishedEvent): JsonValue | undefined {
  if (typeof trigger.input === "function") return trigger.input(event);
  const parsed = parsePath(trigger.input ?? "data");
  return "steps" in parsed ? valueAt(event, parsed.steps) : undefined;
}

function triggerProblems(trigger: TriggerDefinition, index: number, all: readonly TriggerDefinition[], registry: WorkflowRegistry): string[] {
  const name = typeof trigger.id === "string" && trigger.id !== "" ? `trigger "${trigger.id}"` : `trigger #${index + 1}`;
  const problems: string[] = [];
  if (typeof trigger.id !== "string" || !TRIGGER_ID.test(trigger.id)) {
    problems.push(`${name}: id: must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  } else if (all.findIndex((t) => t.id === trigger.id) !== index) {
    problems.push(`${name}: id: registered twice`);
  }
  try {
    registry.resolve(trigger.workflowType, "workflowType");
  } catch (err) {
    problems.push(`${name}: ${(err as Error).message}`);
  }
  if (typeof trigger.input === "string") {
    const parsed = parsePath(trigger.input);
    if ("problem" in parsed) problems.push(`${name}: input: ${parsed.problem}`);
  }
  (trigger.filter?.conditions ?? []).forEach((condition, i) => {
    const problem = conditionProblem(condition);
    if (problem !== undefined) problems.push(`${name}: filter.conditions[${i}]: ${problem}`);
  });
  if (trigger.filter === undefined) problems.push(`${name}: filter: is required (an empty filter {} matches every event)`);
  return problems;
}
