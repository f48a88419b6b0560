// The wire rules of streamed REST answers (src/server/rest/sse.ts), on the real WorkflowService descriptors.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import {
  applyLastEventId,
  eventIdReader,
  formatError,
  formatHeartbeat,
  formatMessage,
  negotiateStreamFormat,
  parseLastEventId,
} from "../../src/server/rest/sse.js";

const { watchWorkflow, getWorkflowStatus } = WorkflowService.method;

function invalidMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    return (err as ConnectError).rawMessage;
  }
  throw new Error("expected InvalidArgument");
}

describe("negotiateStreamFormat", () => {
  it.each([
    ["text/event-stream", "sse"],
    ["text/html, Text/Event-Stream;q=0.5", "sse"],
    ["text/event-stream; charset=utf-8", "sse"],
    ["text/event-stream;q=0", "ndjson"],
    ["application/x-ndjson", "ndjson"],
    ["*/*", "ndjson"],
    [undefined, "ndjson"],
  ])("Accept %s -> %s", (accept, format) => {
    expect(negotiateStreamFormat(accept)).toBe(format);
  });
});

describe("framing", () => {
  it("writes SSE events with and without ids, and NDJSON lines", () => {
    expect(formatMessage("sse", { a: "x\ny" }, "r/1")).toBe('id: r/1\ndata: {"a":"x\\ny"}\n\n');
    expect(formatMessage("sse", { a: 1 }, undefined)).toBe('data: {"a":1}\n\n');
    expect(formatMessage("ndjson", { a: 1 }, "r/1")).toBe('{"a":1}\n');
  });

  it("writes heartbeats and errors", () => {
    expect(formatHeartbeat("sse")).toBe(": heartbeat\n\n");
    expect(formatHeartbeat("ndjson")).toBe("\n");
    const error = { code: "not_found", message: "gone" };
    expect(formatError("sse", error)).toBe('event: error\ndata: {"code":"not_found","message":"gone"}\n\n');
    expect(formatError("ndjson", error)).toBe('{"error":{"code":"not_found","message":"gone"}}\n');
  });
});

describe("eventIdReader", () => {
  const idOf = eventIdReader(watchWorkflow.output)!;

  it("is the event id, prefixed with the run when there is one", () => {
    expect(idOf({ event_id: "5", run_id: "0c1f-a" })).toBe("0c1f-a/5");
    expect(idOf({ event_id: "5", run_id: "" })).toBe("5");
    expect(idOf({ event_id: "0" })).toBe("0");
  });

  it("leaves out an id an SSE line cannot carry", () => {
    expect(idOf({ event_id: "5", run_id: "a\nb" })).toBeUndefined();
  });

  it("does not exist for messages without an event_id field", () => {
    expect(eventIdReader(getWorkflowStatus.output)).toBeUndefined();
  });
});

describe("Last-Event-ID", () => {
  it("parses <run_id>/<n> and <n>", () => {
    expect(parseLastEventId("42")).toEqual({ eventId: 42n });
    expect(parseLastEventId("run-a/42")).toEqual({ runId: "run-a", eventId: 42n });
    // A run id with a "/" keeps it: the number is after the last one.
    expect(parseLastEventId("a/b/7")).toEqual({ runId: "a/b", eventId: 7n });
  });

  it.each(["abc", "run/", "/5", "5x", "-1", "1.5", " 5", "1".repeat(21)])("refuses %j, naming the header", (bad) => {
    expect(invalidMessage(() => parseLastEventId(bad))).toMatch(/^Last-Event-ID header/);
  });

  it("sets after_event_id and run_id, over either spelling the request used", () => {
    const json = { workflow_id: "w", run_id: "from-path", afterEventId: "3" };
    expect(applyLastEventId(watchWorkflow.input, json, "run-b/41")).toEqual({ workflow_id: "w", run_id: "run-b", after_event_id: "41" });
    expect(applyLastEventId(watchWorkflow.input, json, "7")).toEqual({ workflow_id: "w", run_id: "from-path", after_event_id: "7" });
    expect(json, "the caller's JSON is left alone").toEqual({ workflow_id: "w", run_id: "from-path", afterEventId: "3" });
  });

  it("is no header when absent or empty", () => {
    const json = { workflow_id: "w" };
    expect(applyLastEventId(watchWorkflow.input, json, undefined)).toBe(json);
    expect(applyLastEventId(watchWorkflow.input, json, "  ")).toBe(json);
  });

  it("is ignored by requests without an after_event_id field", () => {
    const json = { workflow_id: "w" };
    expect(applyLastEventId(getWorkflowStatus.input, json, "not even a number")).toBe(json);
  });

  it("refuses an event id out of the field's range", () => {
    expect(invalidMessage(() => applyLastEventId(watchWorkflow.input, {}, "9223372036854775808"))).toMatch(/out of range/);
    expect(applyLastEventId(watchWorkflow.input, {}, "9223372036854775807")).toEqual({ after_event_id: "9223372036854775807" });
  });
});
