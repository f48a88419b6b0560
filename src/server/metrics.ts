// Every call counted once, whatever face it came in by: one onRequest hook notes its protocol and counts it
// in flight, and the response's close (which comes for answered, failed and abandoned calls alike) counts
// it done, with its RPC (or route pattern), protocol, Connect code and duration. GET /metrics serves them.
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Metrics, ProtocolLabel } from "../observability/index.js";
import { callRecordOf } from "./access-log.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** On an RPC's routes: which form serves it (the Connect mount's three protocols, or REST). */
    rpcForm?: "connect" | "rest";
    /** A streaming RPC's procedure ("flowgate.workflow.v1.WorkflowService/WatchWorkflow"): counted among the open streams while it lasts. */
    streamingRpc?: string;
  }
}

/** The procedure of a streaming RPC ("flowgate.workflow.v1.WorkflowService/WatchWorkflow"); undefined for a unary one. */
export function streamingRpcOf(handler: UniversalHandler): string | undefined {
  return handler.method.methodKind === "unary" ? undefined : `${handler.service.typeName}/${handler.method.name}`;
}

/** The HTTP statuses Flowgate answers with, back to the Connect code that gave them (DESIGN.md's error table). */
const CODE_BY_STATUS: Readonly<Record<number, Code>> = {
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  404: Code.NotFound,
  405: Code.Unimplemented,
  409: Code.AlreadyExists,
  412: Code.FailedPrecondition,
  413: Code.ResourceExhausted,
  415: Code.InvalidArgument,
  429: Code.ResourceExhausted,
  499: Code.Canceled,
  501: Code.Unimplemented,
  503: Code.Unavailable,
  504: Code.DeadlineExceeded,
};

/** The code of an answer no RPC layer recorded one for: a trailers-only gRPC status, else the HTTP status's. */
export function codeOfAnswer(reply: FastifyReply): string {
  const grpcStatus = reply.getHeader("grpc-status");
  if (grpcStatus !== undefined) return Number(grpcStatus) === 0 ? "ok" : codeToString(Number(grpcStatus));
  const status = reply.raw.statusCode;
  if (status < 400) return "ok";
  return codeToString(CODE_BY_STATUS[status] ?? (status >= 500 ? Code.Internal : Code.InvalidArgument));
}

function protocolOf(req: FastifyRequest): ProtocolLabel {
  const form = req.routeOptions.config.rpcForm;
  if (form === "rest") return "rest";
  if (form !== "connect") return "http";
  const contentType = req.headers["content-type"] ?? "";
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/** Counts every call into `metrics`, and serves them at GET /metrics (a platform part: public by default). */
export function instrumentRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.addHook("onRequest", (req, reply, done) => {
    const record = callRecordOf(req);
    const protocol = protocolOf(req);
    record.protocol = protocol;
    const streamRpc = req.routeOptions.config.streamingRpc;
    metrics.inFlight.inc({ protocol });
    if (streamRpc !== undefined) metrics.openStreams.inc({ rpc: streamRpc });
    reply.raw.once("close", () => {
      metrics.inFlight.dec({ protocol });
      if (streamRpc !== undefined) metrics.openStreams.dec({ rpc: streamRpc });
      // A CORS preflight is answered before any handler, whichever route its path matches.
      const rpc = record.procedure ?? (req.method === "OPTIONS" ? "cors_preflight" : (req.routeOptions.url ?? "unmatched"));
      const code = record.code ?? codeOfAnswer(reply);
      metrics.requests.inc({ rpc, protocol, code });
      metrics.duration.observe({ rpc, protocol }, reply.elapsedTime / 1000);
    });
    done();
  });
  app.get("/metrics", { config: { access: { platform: "metrics" } } }, async (_req, reply) => {
    const { contentType, text } = await metrics.exposition();
    return reply.type(contentType).send(text);
  });
}
