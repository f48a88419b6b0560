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
import type { FastifyInstance, FastifyRequest } from "fastify";

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
  for (const handler of options.handlers) {
    scope.all(handler.requestPath, async (req, reply) => {
      try {
        const response = await handler(universalRequestFromNodeRequest(req.raw, reply.raw, req.body as JsonValue | undefined, options.contextValues(req)));
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
