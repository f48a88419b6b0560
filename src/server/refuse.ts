// A call refused before any handler runs (the server is shutting down, a caller is over its rate, a
// bidirectional stream came over HTTP/1.1), answered in the caller's own protocol, so every client reads a
// status it knows instead of an HTTP error page:
//   gRPC                 HTTP 200, trailers-only: grpc-status and grpc-message in the headers
//   gRPC-Web             HTTP 200 and one trailers frame
//   Connect streaming    HTTP 200 and an end-of-stream message carrying the error
//   anything else        the code's HTTP status and the Connect error JSON: Connect unary, REST, the
//                        platform and seed-compatible paths
// The error's metadata (Retry-After, say) go out as response headers on every form.
import type { ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import * as protoConnect from "@connectrpc/connect/protocol-connect";
import * as protoGrpc from "@connectrpc/connect/protocol-grpc";
import * as protoGrpcWeb from "@connectrpc/connect/protocol-grpc-web";
import type { FastifyReply, FastifyRequest } from "fastify";
import { callRecordOf } from "./access-log.js";
import { restError } from "./errors.js";

const CONNECT_STREAMING = /^application\/connect\+/i;

/**
 * Answers `req` with `err` in its protocol (see above); the call's record takes the code, for the log and
 * metrics. `restStatus` replaces the code's HTTP status on REST and the other plain HTTP paths.
 */
export function refuseCall(req: FastifyRequest, reply: FastifyReply, err: ConnectError, restStatus?: number): FastifyReply {
  const record = callRecordOf(req);
  record.code = protoConnect.codeToString(err.code);
  record.reason = err.rawMessage;
  const headers: Record<string, string> = {};
  err.metadata.forEach((value, name) => (headers[name] = value));
  const contentType = req.headers["content-type"] ?? "";
  const status = { "grpc-status": String(err.code), "grpc-message": encodeURIComponent(err.rawMessage) };
  if (protoGrpcWeb.contentTypeRegExp.test(contentType)) {
    const trailers = Object.entries(status).map(([name, value]) => `${name}: ${value}\r\n`).join("");
    const frame = Buffer.from(encodeEnvelope(protoGrpcWeb.trailerFlag, Buffer.from(trailers)));
    return reply.code(200).headers({ ...headers, "content-type": contentType }).send(frame);
  }
  if (protoGrpc.contentTypeRegExp.test(contentType)) {
    return reply.code(200).headers({ ...headers, "content-type": contentType, ...status }).send();
  }
  if (CONNECT_STREAMING.test(contentType)) {
    const end = Buffer.from(JSON.stringify({ error: protoConnect.errorToJson(err, undefined) }));
    return reply.code(200).headers({ ...headers, "content-type": contentType }).send(Buffer.from(encodeEnvelope(protoConnect.endStreamFlag, end)));
  }
  const { status: httpStatus, body } = restError(err);
  const connectUnary = req.routeOptions.config.rpcForm === "connect";
  return reply.code(restStatus !== undefined && !connectUnary ? restStatus : httpStatus).headers({ ...headers, "content-type": "application/json; charset=utf-8" }).send(body);
}
