// The delivery of one completion callback, as a Temporal workflow so it survives Flowgate's restarts: wait
// for the run to close, POST its outcome with retries and backoff, and record a dead letter when every
// attempt failed. Bundled alone for Flowgate's callback worker: it imports only @temporalio/workflow and types.
import { ActivityFailure, continueAsNew, proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { CallbackActivities } from "./activities.js";

export interface CallbackDelivery {
  readonly url: string;
  readonly workflowId: string;
  readonly runId: string;
  /** POST attempts before the dead letter. */
  readonly attempts: number;
  /** First retry's delay; each next one doubles, up to maxIntervalMs. */
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
}

export interface DeliveryResult {
  readonly delivered: boolean;
  /** The last attempt's error, when not delivered. */
  readonly error?: string;
}

/** Waits this long per activity; a run open longer is waited for again, continuing as new now and then. */
const WAIT_MS = 60_000;
const WAITS_PER_HISTORY = 500;

const { awaitClose } = proxyActivities<CallbackActivities>({
  startToCloseTimeout: WAIT_MS + 30_000,
  heartbeatTimeout: 30_000,
  // Temporal down or slow: keep waiting, never give up on the run; a run that is gone is not retried.
  retry: { initialInterval: 1000, maximumInterval: 60_000, nonRetryableErrorTypes: ["RunGone"] },
});
const { recordDeadLetter } = proxyActivities<CallbackActivities>({ startToCloseTimeout: 30_000, retry: { maximumInterval: 60_000 } });

export async function flowgateCallback(delivery: CallbackDelivery): Promise<DeliveryResult> {
  let body: string | undefined;
  try {
    for (let i = 0; i < WAITS_PER_HISTORY && body === undefined; i++) {
      body = await awaitClose(delivery.workflowId, delivery.runId, WAIT_MS);
    }
  } catch (err) {
    // Only a run that is gone fails the wait for good: there is nothing to send.
    if (!(err instanceof ActivityFailure)) throw err;
    const error = err.cause?.message ?? err.message;
    await recordDeadLetter(workflowInfo().workflowId, delivery, undefined, error);
    return { delivered: false, error };
  }
  if (body === undefined) return continueAsNew<typeof flowgateCallback>(delivery);

  const { post } = proxyActivities<CallbackActivities>({
    startToCloseTimeout: 30_000,
    retry: {
      initialInterval: delivery.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: delivery.maxIntervalMs,
      maximumAttempts: delivery.attempts,
      nonRetryableErrorTypes: ["CallbackRefused"],
    },
  });
  try {
    await post(delivery.url, body, workflowInfo().workflowId);
    return { delivered: true };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const error = err.cause?.message ?? err.message;
    await recordDeadLetter(workflowInfo().workflowId, delivery, body, error);
    return { delivered: false, error };
  }
}
