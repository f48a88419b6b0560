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
import type { JsonObject } from "@bufbuild/protobuf";
import type { FastifyReply, FastifyRequest } from "fastify";
import { callRecordOf } from "./access-log.js";
import { restError } from "./errors.js";

const CONNECT_STREAMING = /^application\/connect\+/i;

/** A refusal as it goes out: the HTTP status, the headers to set, and the body (none for gRPC's). */
interface Refusal {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | JsonObject | undefined;
}

/** How `err` is answered to `req`, in its protocol; the call's record takes the code, for the log and metrics. */
function refusalOf(req: FastifyRequest, err: ConnectError): Refusal {
  const record = callRecordOf(req);
  record.code = protoConnect.codeToString(err.code);
  record.reason = err.rawMessage;
  const headers: Record<string, string> = {};
  err.metadata.forEach((value, name) => (headers[name] = value));
  const contentType = req.headers["content-type"] ?? "";
  const status = { "grpc-status": String(err.code), "grpc-message": encodeURIComponent(err.rawMessage) };
  if (protoGrpcWeb.contentTypeRegExp.test(contentType)) {
    const trailers = Object.entries(status).map(([name, value]) => `${name}: ${value}\r\n`).join("");
    return { status: 200, headers: { ...headers, "content-type": contentType }, body: Buffer.from(encodeEnvelope(protoGrpcWeb.trailerFlag, Buffer.from(trailers))) };
  }
  if (protoGrpc.contentTypeRegExp.test(contentType)) {
    return { status: 200, headers: { ...headers, "content-type": contentType, ...status }, body: undefined };
  }
  if (CONNECT_STREAMING.test(contentType)) {
    const end = JSON.stringify({ error: protoConnect.errorToJson(err, undefined) });
    return { status: 200, headers: { ...headers, "content-type": contentType }, body: Buffer.from(encodeEnvelope(protoConnect.endStreamFlag, Buffer.from(end))) };
  }
  const { status: httpStatus, body } = restError(err);
  return { status: httpStatus, headers: { ...headers, "content-type": "application/json; charset=utf-8" }, body };
}

/** Answers `req` with `err`, in its protocol (see refusalOf). */
export function refuseCall(req: FastifyRequest, reply: FastifyReply, err: ConnectError): FastifyReply {
  const { status, headers, body } = refusalOf(req, err);
  return reply.code(status).headers(headers).send(body);
}
