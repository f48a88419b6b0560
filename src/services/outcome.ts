// A run's outcome as GetWorkflowResult answers it: shared by the service and the completion callbacks, which
// POST that same answer.
import { create } from "@bufbuild/protobuf";
import { WorkflowFailureSchema, WorkflowStatus, type WorkflowFailure } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import type { FailureInfo, RunOutcome, WorkflowStatusName } from "../operations/index.js";
import { jsonToValue } from "./json.js";

export function outcomeToProto(o: RunOutcome) {
  return {
    workflowId: o.workflowId,
    runId: o.runId,
    status: STATUS_TO_PROTO[o.status],
    outcome:
      o.outcome === undefined
        ? undefined
        : o.outcome.kind === "result"
          ? { case: "result" as const, value: jsonToValue(o.outcome.value)! }
          : { case: "failure" as const, value: failureToProto(o.outcome.failure) },
  };
}

export function failureToProto(f: FailureInfo): WorkflowFailure {
  return create(WorkflowFailureSchema, {
    message: f.message,
    type: f.type,
    stackTrace: f.stackTrace,
    cause: f.cause ? failureToProto(f.cause) : undefined,
  });
}

export const STATUS_TO_PROTO: Readonly<Record<WorkflowStatusName, WorkflowStatus>> = {
  UNSPECIFIED: WorkflowStatus.UNSPECIFIED,
  RUNNING: WorkflowStatus.RUNNING,
  COMPLETED: WorkflowStatus.COMPLETED,
  FAILED: WorkflowStatus.FAILED,
  CANCELED: WorkflowStatus.CANCELED,
  TERMINATED: WorkflowStatus.TERMINATED,
  CONTINUED_AS_NEW: WorkflowStatus.CONTINUED_AS_NEW,
  TIMED_OUT: WorkflowStatus.TIMED_OUT,
  PAUSED: WorkflowStatus.PAUSED,
};
