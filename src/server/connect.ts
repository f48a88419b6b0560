// Mounts Connect universal handlers (gRPC, gRPC-Web, Connect) on Fastify. It does what
// @connectrpc/connect-fastify's plugin does, through the same public connect-node adapters, but takes the
// handlers ready-made: the router is built once from the service list (router.ts) and its handlers are
// shared with REST, wrapped where needed, without reaching into a plugin's callback.
import type { JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import * as protoConnect from "@connectrpc/connect/protocol-connect";
import * as protoGrpc from "@connectrpc/connect/protocol-grpc";
import * as protoGrpcWeb from "@connectrpc/connect/protocol-grpc-web";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { streamingRpcOf } from "./metrics.js";
import { refuseCall } from "./refuse.js";

export interface ConnectRoutesOptions {
  readonly handlers: readonly UniversalHandler[];
  /** Per-request context for handlers and interceptors (the request's logger, later its caller). */
  readonly contextValues: (req: FastifyRequest) => ContextValues;
}

/** A Fastify plugin: register it in its own scope, since it replaces that scope's body parsers. */
export async function connectRoutes(scope: FastifyInstance, options: ConnectRoutesOptions): Promise<void> {
  // Connect reads the bodies itself; Fastify must leave them unread.
  const noop = (_req: unknown, _payload: unknown, done: (err: null, body?: undefined) => void) => done(null, undefined);
  scope.addContentTypeParser(
    [
      protoConnect.contentTypeUnaryJson,
      protoConnect.contentTypeStreamJson,
      protoGrpcWeb.contentTypeProto,
      protoGrpcWeb.contentTypeJson,
      protoGrpc.contentTypeProto,
      protoGrpc.contentTypeJson,
    ],
    noop,
  );
  for (const type of [protoGrpc.contentTypeRegExp, protoGrpcWeb.contentTypeRegExp, protoConnect.contentTypeRegExp]) {
    scope.addContentTypeParser(type, noop);
  }
  // gRPC-Web's text mode (base64 bodies, the default of Google's grpc-web client), which connect-node does not
  // speak: accepted here only to be refused in the caller's protocol, with what to use instead.
  scope.addContentTypeParser(GRPC_WEB_TEXT, noop);
  for (const handler of options.handlers) {
    const bidi = handler.method.methodKind === "bidi_streaming";
    const streamsBody = handler.method.methodKind === "client_streaming" || bidi;
    const config = { access: "rpc", rpcForm: "connect", streamingRpc: streamingRpcOf(handler), streamsBody } as const;
    scope.all(handler.requestPath, { config }, async (req, reply) => {
      if (bidi && req.raw.httpVersionMajor === 1) return refuseBidiOverHttp1(req, reply, handler.method.name);
      if (GRPC_WEB_TEXT.test(req.headers["content-type"] ?? "")) return refuseGrpcWebText(reply);
      try {
        const request = universalRequestFromNodeRequest(req.raw, reply.raw, req.body as JsonValue | undefined, options.contextValues(req));
        // Connect stops reading at its limit by returning the body's iterator; connect-node's would destroy the
        // request and with it the connection, before the answer could be read. This one only stops reading,
        // and the rest of the body is settled once the answer is out (unread-bodies.ts).
        if (typeof request.body === "object" && request.body !== null && Symbol.asyncIterator in request.body) {
          request.body = req.raw.iterator({ destroyOnReturn: false });
        }
        const response = await handler(request);
        // Answered while the handler ran (a body too slow, slow-bodies.ts): its own answer has nowhere to go.
        if (reply.raw.headersSent) return;
        // Headers set on the reply (by hooks) live on the reply until send; the raw response is written here.
        for (const [name, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) reply.raw.setHeader(name, value);
        }
        await universalResponseToNodeResponse(response, reply.raw);
      } catch (err) {
        // The client went away while the answer was written: nothing left to tell anyone.
        if (ConnectError.from(err).code === Code.Aborted) return;
        req.log.error({ err, procedure: handler.requestPath }, "writing the response failed");
      }
    });
  }
}

const GRPC_WEB_TEXT = /^application\/grpc-web-text(?:\+proto)?(?:;|$)/i;

/**
 * A gRPC-Web text-mode call: a trailers-only answer (the status in the headers, which grpc-web clients read),
 * Unimplemented, naming the binary mode to switch to.
 */
function refuseGrpcWebText(reply: FastifyReply): FastifyReply {
  const message =
    "gRPC-Web text mode (application/grpc-web-text) is not served: use binary mode " +
    "(grpc-web's format: 'binary', i.e. application/grpc-web+proto), or connect-web's createGrpcWebTransport";
  return reply
    .code(200)
    .header("content-type", "application/grpc-web-text+proto")
    .header("grpc-status", String(Code.Unimplemented))
    .header("grpc-message", encodeURIComponent(message))
    .send();
}

/** A bidirectional stream called over HTTP/1.1, which cannot carry one (connect-node answers a bare 505). */
function refuseBidiOverHttp1(req: FastifyRequest, reply: FastifyReply, methodName: string): FastifyReply {
  const message = `${methodName} is a bidirectional stream, which needs HTTP/2: call it over h2c or TLS (grpcurl does)`;
  return refuseCall(req, reply, new ConnectError(message, Code.FailedPrecondition));
}
