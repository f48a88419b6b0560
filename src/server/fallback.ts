// The answers for requests no RPC serves, in one place: an unknown gRPC method gets a gRPC status, an
// unknown path a 404, and a known REST path called with the wrong method a 405 naming the methods it takes.
import { Code, ConnectError } from "@connectrpc/connect";
import type { FastifyReply, FastifyRequest } from "fastify";
import { restError } from "./errors.js";

const GRPC_CONTENT_TYPE = /^application\/grpc(?![-\w])/;

/** Fastify's not-found handler: no route matched the path. */
export async function answerNoRoute(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const path = req.url.split("?")[0]!;
  // A gRPC client wants a gRPC status (trailers-only), not an HTTP error page.
  if (GRPC_CONTENT_TYPE.test(req.headers["content-type"] ?? "")) {
    return reply
      .code(200)
      .headers({
        "content-type": "application/grpc",
        "grpc-status": String(Code.Unimplemented),
        "grpc-message": encodeURIComponent(`unknown method ${path}`),
      })
      .send();
  }
  const { body } = restError(new ConnectError(`no route for ${req.method} ${path}`, Code.NotFound), 404);
  return reply.code(404).type("application/json").send(body);
}

/** A route that answers 405 with an Allow header, for the methods a REST path does not take. */
export function methodNotAllowed(allowed: readonly string[]) {
  const allow = allowed.join(", ");
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const path = req.url.split("?")[0]!;
    const err = new ConnectError(`method ${req.method} is not allowed on ${path}; use ${allowed.join(" or ")}`, Code.Unimplemented);
    return reply.code(405).header("allow", allow).type("application/json").send(restError(err, 405).body);
  };
}
