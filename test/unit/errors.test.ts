// The two error tables: Temporal failure -> Connect code (one test per row), Connect code -> HTTP status.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ServiceError,
  WorkflowContinuedAsNewError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from "@temporalio/client";
import { ApplicationFailure, RetryState, WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import { describe, expect, it } from "vitest";
import { HTTP_STATUS_BY_CODE, toConnectError } from "../../src/server/errors.js";
import {
  RequestIdConflictError,
  RunClosedError,
  RunDeadlineError,
  TEMPORAL_ERROR_TABLE,
  temporalErrorToConnect,
} from "../../src/temporal/index.js";

/** A gRPC status error as @grpc/grpc-js raises it. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

describe("Temporal error table", () => {
  const cases: Array<[row: string, err: unknown, code: Code, message: RegExp]> = [
    ["WorkflowNotFoundError", new WorkflowNotFoundError("not found", "wf-1", "run-1"), Code.NotFound, /^workflow "wf-1" run "run-1" not found$/],
    ["WorkflowExecutionAlreadyStartedError", new WorkflowExecutionAlreadyStartedError("started", "wf-2", "greet"), Code.AlreadyExists, /^workflow "wf-2" is already running$/],
    [
      "WorkflowFailedError",
      new WorkflowFailedError("failed", ApplicationFailure.create({ message: "boom" }), RetryState.NON_RETRYABLE_FAILURE),
      Code.FailedPrecondition,
      /^workflow failed: boom$/,
    ],
    ["WorkflowContinuedAsNewError", new WorkflowContinuedAsNewError("continued", "run-2"), Code.FailedPrecondition, /run-2/],
    ["RunClosedError", new RunClosedError("wf-3", "run-3", "COMPLETED"), Code.FailedPrecondition, /^workflow "wf-3" run "run-3" is already closed \(COMPLETED\)$/],
    ["RequestIdConflictError", new RequestIdConflictError("wf-4", undefined), Code.AlreadyExists, /different request_id/],
    ["RunDeadlineError", new RunDeadlineError({ workflowId: "wf-5", runId: "run-5" }, undefined), Code.DeadlineExceeded, /"wf-5" run "run-5" was still running/],
    ["gRPC status from Temporal about the request", new ServiceError("call failed", { cause: grpcError(14, "connection refused") }), Code.Unavailable, /^temporal: connection refused$/],
    ["gRPC auth failure from Temporal", grpcError(7, "Request unauthorized."), Code.Internal, /^temporal refused the gateway's credentials$/],
    ["gRPC server failure from Temporal", grpcError(13, "persistence: disk on fire at /var/db"), Code.Internal, /^temporal failed to answer$/],
    ["Temporal unreachable", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7233"), { code: "ECONNREFUSED" }), Code.Unavailable, /unreachable/],
  ];

  it("has a test for every row", () => {
    expect(cases.map(([row]) => row)).toEqual(TEMPORAL_ERROR_TABLE.map((r) => r.name));
  });

  it.each(cases)("maps %s", (_row, err, code, message) => {
    const mapped = temporalErrorToConnect(err);
    expect(mapped?.code).toBe(code);
    expect(mapped?.rawMessage).toMatch(message);
    expect(mapped?.cause).toBe(err);
  });

  it("passes codes about the request through, and hides Temporal's own failures", () => {
    expect(temporalErrorToConnect(grpcError(3, "id too long"))?.code).toBe(Code.InvalidArgument);
    expect(temporalErrorToConnect(grpcError(4, "deadline"))?.code).toBe(Code.DeadlineExceeded);
    expect(temporalErrorToConnect(grpcError(8, "busy"))?.code).toBe(Code.ResourceExhausted);
    expect(temporalErrorToConnect(grpcError(16, "no token"))?.code).toBe(Code.Internal);
    expect(temporalErrorToConnect(grpcError(15, "lost"))?.rawMessage).toBe("temporal failed to answer");
  });

  it("leaves other errors to the caller", () => {
    expect(temporalErrorToConnect(new TypeError("bug"))).toBeUndefined();
  });
});

describe("toConnectError", () => {
  it("keeps a ConnectError as it is", () => {
    const err = new ConnectError("bad", Code.InvalidArgument);
    expect(toConnectError(err)).toBe(err);
  });

  it("turns an unknown failure into Internal without revealing it", () => {
    const err = toConnectError(new TypeError("secret detail at /srv/app.ts:12"));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error");
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it("reports a call aborted by its deadline as the deadline, naming the run when it can", () => {
    const controller = new AbortController();
    controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
    expect(toConnectError(grpcError(1, "cancelled"), controller.signal).code).toBe(Code.DeadlineExceeded);
    const named = toConnectError(new RunDeadlineError({ workflowId: "w", runId: "r" }, undefined), controller.signal);
    expect(named.rawMessage).toMatch(/"w" run "r"/);
  });

  it("reports a call its client abandoned as canceled", () => {
    const controller = new AbortController();
    controller.abort(new ConnectError("client disconnected", Code.Canceled));
    expect(toConnectError(new RunDeadlineError(undefined, undefined), controller.signal).code).toBe(Code.Canceled);
  });
});

describe("HTTP status table (gRPC-gateway convention)", () => {
  it.each([
    [Code.InvalidArgument, 400],
    [Code.Unauthenticated, 401],
    [Code.PermissionDenied, 403],
    [Code.NotFound, 404],
    [Code.AlreadyExists, 409],
    [Code.Aborted, 409],
    [Code.FailedPrecondition, 400],
    [Code.OutOfRange, 400],
    [Code.ResourceExhausted, 429],
    [Code.Canceled, 499],
    [Code.Unimplemented, 501],
    [Code.Unavailable, 503],
    [Code.DeadlineExceeded, 504],
    [Code.Unknown, 500],
    [Code.Internal, 500],
    [Code.DataLoss, 500],
  ])("maps %s to %i", (code, status) => {
    expect(HTTP_STATUS_BY_CODE[code]).toBe(status);
  });
});
