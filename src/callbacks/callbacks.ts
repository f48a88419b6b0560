// Completion callbacks: a start that names a URL gets a delivery workflow (./workflow.ts) on Flowgate's
// callback task queue, one per run whatever the retries, which POSTs the run's outcome once it closes.
import { createHash } from "node:crypto";
import type { CallBound, RunRef, WorkflowEngine } from "../operations/index.js";
import { WorkflowAlreadyStartedError } from "../operations/index.js";
import type { CallbackAllowlist } from "./allowlist.js";
import { CallbacksOffError, InvalidCallbackError } from "./errors.js";
import type { CallbackDelivery } from "./workflow.js";

export interface CallbackSettings {
  readonly allowlist: CallbackAllowlist;
  /** The task queue Flowgate's callback worker polls. */
  readonly taskQueue: string;
  /** POST attempts before the dead letter. */
  readonly attempts: number;
  /** First retry's delay (default 1 s); each next one doubles, up to maxIntervalMs (default 5 min). */
  readonly initialIntervalMs?: number;
  readonly maxIntervalMs?: number;
}

/** The delivery workflow's type, as ./workflow.ts exports it. */
export const CALLBACK_WORKFLOW_TYPE = "flowgateCallback";

export class CompletionCallbacks {
  constructor(
    private readonly engine: WorkflowEngine,
    readonly settings: CallbackSettings,
  ) {}

  /** Refuses a URL that may not be called, before anything is started. */
  check(url: string): void {
    if (!this.settings.allowlist.enabled) throw new CallbacksOffError();
    const problem = this.settings.allowlist.problem(url);
    if (problem !== undefined) throw new InvalidCallbackError(`callback.url: ${problem}`);
  }

  /** Starts the run's delivery to `url`; a second registration of both (a retried start) finds the first. */
  async register(run: RunRef, url: string, bound: CallBound): Promise<void> {
    this.check(url);
    const delivery: CallbackDelivery = {
      url,
      workflowId: run.workflowId,
      runId: run.runId,
      attempts: this.settings.attempts,
      initialIntervalMs: this.settings.initialIntervalMs ?? 1000,
      maxIntervalMs: this.settings.maxIntervalMs ?? 300_000,
    };
    try {
      await this.engine.start(
        {
          workflowType: CALLBACK_WORKFLOW_TYPE,
          workflowId: callbackIdOf(run, url),
          taskQueue: this.settings.taskQueue,
          args: [delivery],
          memo: undefined,
          searchAttributes: undefined,
          idReusePolicy: "REJECT_DUPLICATE",
          idConflictPolicy: undefined,
          executionTimeoutMs: undefined,
          runTimeoutMs: undefined,
          taskTimeoutMs: undefined,
          retry: undefined,
          startDelayMs: undefined,
          requestId: undefined,
        },
        bound,
      );
    } catch (err) {
      if (!(err instanceof WorkflowAlreadyStartedError)) throw err;
    }
  }
}

/**
 * The delivery's workflow id, also its Idempotency-Key and its dead letter's key: one per run and URL, so a
 * retried start registers its delivery once, and another start that finds the same run (USE_EXISTING, or a
 * request_id retried with another URL) gets its own.
 */
export function callbackIdOf(run: RunRef, url: string): string {
  return `flowgate-callback:${run.workflowId}:${run.runId}:${createHash("sha256").update(url).digest("hex").slice(0, 16)}`;
}
