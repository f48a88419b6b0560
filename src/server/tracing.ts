// A server span per call (see src/observability/tracing.ts), named by its RPC once the RPC layer has named
// it ("flowgate.workflow.v1.WorkflowService/StartWorkflow"), else by its method and route. It is ended when
// the answer has gone out or the exchange is cut, with the call's Connect code, and marked failed for the
// codes that are the server's failures rather than the caller's (OpenTelemetry's RPC conventions).
import type { FastifyInstance } from "fastify";
import { SpanKind, SpanStatusCode, Tracing } from "../observability/index.js";
import { callRecordOf } from "./access-log.js";
import { codeOfAnswer } from "./metrics.js";

/** The Connect codes that are the server's failures: a span that answers one is marked as an error. */
const SERVER_FAILURES = new Set(["unknown", "deadline_exceeded", "unimplemented", "internal", "unavailable", "data_loss"]);

/** Opens a span for every call into `tracing`, child of the caller's `traceparent` when it sends one. */
export function traceCalls(app: FastifyInstance, tracing: Tracing): void {
  app.addHook("onRequest", (req, reply, done) => {
    const record = callRecordOf(req);
    const { span, context } = tracing.start(`${req.method} ${req.routeOptions.url ?? "unmatched"}`, SpanKind.SERVER, Tracing.extract(req.headers), {
      "http.request.method": req.method,
      "url.path": req.url.split("?", 1)[0],
      "flowgate.request_id": req.id,
    });
    record.trace = context;
    reply.raw.once("close", () => {
      const code = record.code ?? codeOfAnswer(reply);
      if (record.procedure !== undefined) {
        const slash = record.procedure.lastIndexOf("/");
        span.updateName(record.procedure);
        span.setAttributes({
          "rpc.system": record.protocol === "grpc" || record.protocol === "grpc-web" ? "grpc" : "connect_rpc",
          "rpc.service": record.procedure.slice(0, slash),
          "rpc.method": record.procedure.slice(slash + 1),
        });
      }
      span.setAttributes({
        "http.response.status_code": reply.raw.statusCode,
        "flowgate.protocol": record.protocol ?? "http",
        "flowgate.code": code,
        ...(record.caller === undefined ? {} : { "enduser.id": record.caller }),
      });
      if (SERVER_FAILURES.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: record.reason ?? code });
      span.end();
    });
    done();
  });
}
