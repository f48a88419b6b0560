// The callback delivery's activities, run by Flowgate's callback worker: wait for a run to close (on
// Flowgate's engine, so continue-as-new is followed), POST its outcome, and record a dead letter.
import { create, toJsonString } from "@bufbuild/protobuf";
import { ApplicationFailure, Context } from "@temporalio/activity";
import type { Logger } from "pino";
import { GetWorkflowResultResponseSchema } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import type { Database } from "../database/index.js";
import { withTimeLimit, type WorkflowEngine } from "../operations/index.js";
import { isRunNotFound } from "../temporal/index.js";
import { outcomeToProto } from "../services/outcome.js";
import type { CallbackAllowlist } from "./allowlist.js";
import type { CallbackDelivery } from "./workflow.js";

export interface CallbackDependencies {
  readonly engine: WorkflowEngine;
  readonly allowlist: CallbackAllowlist;
  readonly database: Database;
  readonly logger: Logger;
  /** Longest wait for the receiver's answer (default 10 s). */
  readonly requestTimeoutMs?: number;
}

export function createCallbackActivities(deps: CallbackDependencies) {
  return {
    /** The run's outcome as GetWorkflowResult's REST answer, or undefined when it is still open after `waitMs`. */
    async awaitClose(workflowId: string, runId: string, waitMs: number): Promise<string | undefined> {
      const context = Context.current();
      // A timer held here, not AbortSignal.timeout (see operations/bound.ts): the wait ends on time.
      const bound = withTimeLimit({ signal: context.cancellationSignal, deadline: undefined }, waitMs);
      const heartbeat = setInterval(() => context.heartbeat(), 10_000);
      try {
        const outcome = await deps.engine.awaitOutcome({ workflowId, runId }, true, bound);
        // As the REST route answers it: proto field names, implicit fields included.
        const message = create(GetWorkflowResultResponseSchema, outcomeToProto(outcome));
        return toJsonString(GetWorkflowResultResponseSchema, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
      } catch (err) {
        if (bound.expired) return undefined;
        // The run is gone (deleted, or past the namespace's retention): no outcome will ever come.
        if (isRunNotFound(err)) throw ApplicationFailure.nonRetryable(`the run is gone: ${(err as Error).message}`, "RunGone");
        throw err;
      } finally {
        clearInterval(heartbeat);
        bound.dispose();
      }
    },

    /** POSTs the outcome (`callbackId` is its Idempotency-Key); 2xx is delivery, 408, 429, 5xx and network errors are retried, anything else is not. */
    async post(url: string, body: string, callbackId: string): Promise<void> {
      // Checked again at each attempt: an origin removed from the allowlist is no longer called.
      const problem = deps.allowlist.problem(url);
      if (problem !== undefined) throw ApplicationFailure.nonRetryable(`callback.url: ${problem}`, "CallbackRefused");
      const context = Context.current();
      const bound = withTimeLimit({ signal: context.cancellationSignal, deadline: undefined }, deps.requestTimeoutMs ?? 10_000);
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": callbackId, "user-agent": "flowgate" },
          body,
          // A redirect could lead off the allowed origins: it is an answer, not followed.
          redirect: "manual",
          signal: bound.signal,
        });
        await res.body?.cancel();
      } catch (err) {
        const cause = bound.expired ? `no answer within ${(deps.requestTimeoutMs ?? 10_000) / 1000} s` : ((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
        throw new Error(`POST ${url}: ${cause}`);
      } finally {
        bound.dispose();
      }
      if (res.ok) return;
      const message = `POST ${url}: HTTP ${res.status}`;
      if (res.status === 408 || res.status === 429 || res.status >= 500) throw new Error(message);
      throw ApplicationFailure.nonRetryable(`${message}, not retried`, "CallbackRefused");
    },

    /** Keeps what could not be delivered, once per callback. */
    async recordDeadLetter(callbackId: string, delivery: CallbackDelivery, body: string | undefined, error: string): Promise<void> {
      await deps.database.query(
        `INSERT INTO flowgate_callback_dead_letters (callback_id, url, workflow_id, run_id, body, last_error)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT (callback_id) DO NOTHING`,
        [callbackId, delivery.url, delivery.workflowId, delivery.runId, body ?? null, error],
      );
      deps.logger.error({ callbackId, url: delivery.url, workflowId: delivery.workflowId, error }, "completion callback not delivered: dead letter recorded");
    },
  };
}

export type CallbackActivities = ReturnType<typeof createCallbackActivities>;
