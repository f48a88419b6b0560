// The error tables: each source's failures -> Connect code (one test per row, per table), the mapper that
// tries them in order, and Connect code -> HTTP status.
import { Code, ConnectError } from "@connectrpc/connect";
import { ServiceError, WorkflowContinuedAsNewError, WorkflowFailedError, WorkflowNotFoundError } from "@temporalio/client";
import { ApplicationFailure, RetryState, WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import { describe, expect, it } from "vitest";
import { ViolationsSchema } from "../../gen/buf/validate/validate_pb.js";
import { ErrorContext, mapThroughTables, type ErrorTable } from "../../src/errors/index.js";
import {
  CONFIGS_ERROR_TABLE,
  ConfigMapNotFoundError,
  ConfigNotFoundError,
  ConfigVersionMismatchError,
  InvalidConfigRequestError,
} from "../../src/configs/index.js";
import { EVENTS_ERROR_TABLE, InvalidEventError } from "../../src/events/index.js";
import { AUTH_ERROR_TABLE, KeySetUnavailableError, PermissionDeniedError, UnauthenticatedError } from "../../src/auth/index.js";
import { CALLBACKS_ERROR_TABLE, CallbacksOffError, InvalidCallbackError } from "../../src/callbacks/index.js";
import { FILES_ERROR_TABLE, FileTooLargeError, InvalidUploadError } from "../../src/files/index.js";
import { HANDLER_ERROR_TABLE, HandlerError, HandlerFailedError, MissingHookError } from "../../src/handler/index.js";
import {
  InvalidRequestError,
  OPERATIONS_ERROR_TABLE,
  QueryFailedError,
  RequestIdConflictError,
  RunClosedError,
  RunDeadlineError,
  RunWaitInterruptedError,
  UpdateFailedError,
  WorkflowAlreadyStartedError,
} from "../../src/operations/index.js";
import {
  InvalidInputError,
  REGISTRY_ERROR_TABLE,
  UndeclaredHandlerError,
  UnknownWorkflowTypeError,
  WorkflowTypeNotFoundError,
} from "../../src/registry/index.js";
import { createErrorMapper, HTTP_STATUS_BY_CODE } from "../../src/server/errors.js";
import { TEMPORAL_ERROR_TABLE } from "../../src/temporal/index.js";

/** A gRPC status error as @grpc/grpc-js raises it. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

type Case = [row: string, err: unknown, code: Code, message: RegExp];

/** Every row of `table` has a case, and each case maps as stated (the table alone decides). */
function describeTable(name: string, table: ErrorTable, cases: Case[]) {
  describe(name, () => {
    it("has a test for every row", () => {
      expect(cases.map(([row]) => row)).toEqual(table.map((r) => r.name));
    });

    it.each(cases)("maps %s", (_row, err, code, message) => {
      const mapped = mapThroughTables([table], err);
      expect(mapped?.code).toBe(code);
      expect(mapped?.rawMessage).toMatch(message);
      expect(mapped?.cause).toBe(err);
    });
  });
}

describeTable("workflow operations error table", OPERATIONS_ERROR_TABLE, [
  ["WorkflowAlreadyStartedError", new WorkflowAlreadyStartedError("wf-0"), Code.AlreadyExists, /^workflow "wf-0" is already running$/],
  ["RunClosedError", new RunClosedError("wf-3", "run-3", "COMPLETED"), Code.FailedPrecondition, /^workflow "wf-3" run "run-3" is already closed \(COMPLETED\)$/],
  ["RequestIdConflictError", new RequestIdConflictError("wf-4", undefined), Code.AlreadyExists, /different request_id/],
  ["RunDeadlineError", new RunDeadlineError({ workflowId: "wf-5", runId: "run-5" }, undefined), Code.DeadlineExceeded, /"wf-5" run "run-5" was still running/],
  ["RunWaitInterruptedError", new RunWaitInterruptedError({ workflowId: "wf-6", runId: "run-6" }, undefined), Code.Unavailable, /^the server is shutting down; workflow "wf-6" run "run-6" keeps running: get its outcome with GetWorkflowResult/],
  ["InvalidRequestError", new InvalidRequestError('options.memo: key "flowgate.x" is reserved'), Code.InvalidArgument, /^options\.memo: key "flowgate\.x" is reserved$/],
  ["UpdateFailedError", new UpdateFailedError("decision", "a rejection needs a comment"), Code.FailedPrecondition, /^update "decision" was rejected or failed: a rejection needs a comment$/],
  ["QueryFailedError", new QueryFailedError("state", "no such query"), Code.FailedPrecondition, /^query "state" failed: no such query$/],
]);

describeTable("events error table", EVENTS_ERROR_TABLE, [
  ["InvalidEventError", new InvalidEventError("event.id: is required"), Code.InvalidArgument, /^event\.id: is required$/],
]);

describeTable("config store error table", CONFIGS_ERROR_TABLE, [
  ["ConfigNotFoundError", new ConfigNotFoundError("c-1"), Code.NotFound, /^config "c-1" not found$/],
  ["ConfigVersionMismatchError", new ConfigVersionMismatchError("c-2", 3, 4), Code.Aborted, /^config "c-2" is at version 4, not the expected 3: read it again/],
  ["ConfigMapNotFoundError", new ConfigMapNotFoundError("m", ["greet"]), Code.NotFound, /^config map "m" not found \(defined: greet\)$/],
  ["InvalidConfigRequestError", new InvalidConfigRequestError("page_token: not a page token"), Code.InvalidArgument, /^page_token: not a page token$/],
  [
    "data exception",
    Object.assign(new Error("unsupported Unicode escape sequence"), { code: "22P05" }),
    Code.InvalidArgument,
    /^the config database refused a value of the request: unsupported Unicode escape sequence$/,
  ],
  [
    "database unavailable",
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    Code.Unavailable,
    /^the config database cannot be reached: connect ECONNREFUSED/,
  ],
]);

describeTable("handler hooks error table", HANDLER_ERROR_TABLE, [
  ["HandlerError", new HandlerError("permission_denied", "no access to schema sales"), Code.PermissionDenied, /^no access to schema sales$/],
  ["HandlerFailedError", new HandlerFailedError("testAuth", new Error("boom")), Code.Unknown, /^handler testAuth failed: boom$/],
  ["MissingHookError", new MissingHookError("fetchMetadata", true), Code.Unimplemented, /^the application's handler has no fetchMetadata$/],
]);

describeTable("completion callbacks error table", CALLBACKS_ERROR_TABLE, [
  ["InvalidCallbackError", new InvalidCallbackError("callback.url: not allowed"), Code.InvalidArgument, /^callback\.url: not allowed$/],
  ["CallbacksOffError", new CallbacksOffError(), Code.FailedPrecondition, /^callback\.url: completion callbacks are off on this server/],
]);

describeTable("auth error table", AUTH_ERROR_TABLE, [
  ["UnauthenticatedError", new UnauthenticatedError("the API key is not valid"), Code.Unauthenticated, /^the API key is not valid$/],
  ["PermissionDeniedError", new PermissionDeniedError('StopWorkflow needs the scope "workflows.admin"'), Code.PermissionDenied, /needs the scope "workflows\.admin"/],
  ["KeySetUnavailableError", new KeySetUnavailableError("the token's keys could not be fetched"), Code.Unavailable, /could not be fetched/],
]);

describeTable("file store error table", FILES_ERROR_TABLE, [
  ["FileTooLargeError", new FileTooLargeError(1024), Code.ResourceExhausted, /^the file is larger than this server accepts \(1024 bytes\); nothing was stored$/],
  ["InvalidUploadError", new InvalidUploadError("file: is empty"), Code.InvalidArgument, /^file: is empty$/],
]);

describe("an error with context", () => {
  it("maps as its cause, with the context before the message and the details kept", () => {
    const cause = new InvalidInputError("greet", [{ path: ["input", "name"], keyword: "required", message: "is required" }]);
    const direct = mapThroughTables([REGISTRY_ERROR_TABLE], cause)!;
    const err = new ErrorContext('trigger "t"', cause);
    const mapped = mapThroughTables([OPERATIONS_ERROR_TABLE, REGISTRY_ERROR_TABLE], err);
    expect(mapped?.code).toBe(Code.InvalidArgument);
    expect(mapped?.rawMessage).toBe(`trigger "t": ${direct.rawMessage}`);
    expect(mapped?.details).toEqual(direct.details);
    expect(mapped?.cause).toBe(err);
  });

  it("is unmapped when its cause is", () => {
    expect(mapThroughTables([REGISTRY_ERROR_TABLE], new ErrorContext("x", new Error("boom")))).toBeUndefined();
  });
});

describeTable("registry error table", REGISTRY_ERROR_TABLE, [
  ["UnknownWorkflowTypeError", new UnknownWorkflowTypeError("gret", ["greet", "sleep"]), Code.InvalidArgument, /^workflow_type: "gret" is not a registered workflow type \(registered: greet, sleep\)$/],
  [
    "UndeclaredHandlerError",
    new UndeclaredHandlerError("signal", "decide", "approval", ["decision"]),
    Code.InvalidArgument,
    /^signal_name: "decide" is not a signal of workflow type "approval" \(declared: decision\)$/,
  ],
  ["WorkflowTypeNotFoundError", new WorkflowTypeNotFoundError("gret", ["greet"]), Code.NotFound, /^workflow type "gret" is not registered \(registered: greet\)$/],
  [
    "InvalidInputError",
    new InvalidInputError("order", [{ path: ["input", "items", 2, "quantity"], keyword: "minimum", message: "must be >= 1" }]),
    Code.InvalidArgument,
    /^input\.items\[2\]\.quantity: must be >= 1$/,
  ],
]);

describeTable("Temporal error table", TEMPORAL_ERROR_TABLE, [
  ["WorkflowNotFoundError", new WorkflowNotFoundError("not found", "wf-1", "run-1"), Code.NotFound, /^workflow "wf-1" run "run-1" not found$/],
  ["WorkflowExecutionAlreadyStartedError", new WorkflowExecutionAlreadyStartedError("started", "wf-2", "greet"), Code.AlreadyExists, /^workflow "wf-2" is already running$/],
  [
    "WorkflowFailedError",
    new WorkflowFailedError("failed", ApplicationFailure.create({ message: "boom" }), RetryState.NON_RETRYABLE_FAILURE),
    Code.FailedPrecondition,
    /^workflow failed: boom$/,
  ],
  ["WorkflowContinuedAsNewError", new WorkflowContinuedAsNewError("continued", "run-2"), Code.FailedPrecondition, /run-2/],
  ["gRPC status from Temporal about the request", new ServiceError("call failed", { cause: grpcError(14, "connection refused") }), Code.Unavailable, /^temporal: connection refused$/],
  ["gRPC auth failure from Temporal", grpcError(7, "Request unauthorized."), Code.Internal, /^temporal refused the gateway's credentials$/],
  ["gRPC server failure from Temporal", grpcError(13, "persistence: disk on fire at /var/db"), Code.Internal, /^temporal failed to answer$/],
  ["Temporal unreachable", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7233"), { code: "ECONNREFUSED" }), Code.Unavailable, /unreachable/],
]);

describe("Temporal error table, beyond one row each", () => {
  it("passes codes about the request through, and hides Temporal's own failures", () => {
    const map = (err: unknown) => mapThroughTables([TEMPORAL_ERROR_TABLE], err);
    expect(map(grpcError(3, "id too long"))?.code).toBe(Code.InvalidArgument);
    expect(map(grpcError(4, "deadline"))?.code).toBe(Code.DeadlineExceeded);
    expect(map(grpcError(8, "busy"))?.code).toBe(Code.ResourceExhausted);
    expect(map(grpcError(16, "no token"))?.code).toBe(Code.Internal);
    expect(map(grpcError(15, "lost"))?.rawMessage).toBe("temporal failed to answer");
  });

  it("leaves other errors to the caller", () => {
    expect(mapThroughTables([TEMPORAL_ERROR_TABLE], new TypeError("bug"))).toBeUndefined();
  });
});

describe("registry errors carry buf.validate-style details", () => {
  it("names each failing path as field path elements, with the schema keyword as the rule", () => {
    const err = mapThroughTables(
      [REGISTRY_ERROR_TABLE],
      new InvalidInputError("order", [
        { path: ["input", "items", 2, "quantity"], keyword: "minimum", message: "must be >= 1" },
        { path: ["input", "order_id"], keyword: "required", message: "is required" },
      ]),
    )!;
    expect(err.rawMessage).toBe("input.items[2].quantity: must be >= 1; input.order_id: is required");
    const [violations] = err.findDetails(ViolationsSchema);
    expect(violations?.violations.map((v) => [v.field?.elements.map((e) => [e.fieldName, e.subscript.value]), v.ruleId, v.message])).toEqual([
      [[["input", undefined], ["items", 2n], ["quantity", undefined]], "json_schema.minimum", "must be >= 1"],
      [[["input", undefined], ["order_id", undefined]], "json_schema.required", "is required"],
    ]);
  });
});

describe("error mapper", () => {
  const mapper = createErrorMapper([OPERATIONS_ERROR_TABLE, REGISTRY_ERROR_TABLE, TEMPORAL_ERROR_TABLE]);

  it("keeps a ConnectError as it is", () => {
    const err = new ConnectError("bad", Code.InvalidArgument);
    expect(mapper.toConnectError(err)).toBe(err);
  });

  it("turns an unknown failure into Internal without revealing it", () => {
    const err = mapper.toConnectError(new TypeError("secret detail at /srv/app.ts:12"));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error");
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it("tries the tables in order", () => {
    const first: ErrorTable = [{ name: "any", match: () => true, code: Code.Aborted, message: () => "first" }];
    expect(createErrorMapper([first, TEMPORAL_ERROR_TABLE]).toConnectError(grpcError(14, "x")).rawMessage).toBe("first");
  });

  it("reports a call aborted by its deadline as the deadline, naming the run when it can", () => {
    const controller = new AbortController();
    controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
    expect(mapper.toConnectError(grpcError(1, "cancelled"), controller.signal).code).toBe(Code.DeadlineExceeded);
    const named = mapper.toConnectError(new RunDeadlineError({ workflowId: "w", runId: "r" }, undefined), controller.signal);
    expect(named.rawMessage).toMatch(/"w" run "r"/);
  });

  it("names the run a wait was on when the server's shutdown ends it, and keeps the client's own reasons", () => {
    const shutdown = new AbortController();
    shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
    const named = mapper.toConnectError(new RunWaitInterruptedError({ workflowId: "w", runId: "r" }, undefined), shutdown.signal);
    expect(named.code).toBe(Code.Unavailable);
    expect(named.rawMessage).toMatch(/"w" run "r" keeps running/);
    const gone = new AbortController();
    gone.abort(new ConnectError("client disconnected", Code.Canceled));
    expect(mapper.toConnectError(new RunWaitInterruptedError({ workflowId: "w", runId: "r" }, undefined), gone.signal).code).toBe(Code.Canceled);
  });

  it("reports a call its client abandoned as canceled", () => {
    const controller = new AbortController();
    controller.abort(new ConnectError("client disconnected", Code.Canceled));
    expect(mapper.toConnectError(new RunDeadlineError(undefined, undefined), controller.signal).code).toBe(Code.Canceled);
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
