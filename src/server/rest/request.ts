// REST request -> a Connect call on the router's own universal handler: the request message from path,
// query and body (mapping.ts), sent as a Connect request, so validation, interceptors and error mapping
// are the ones every other protocol goes through (as Vanguard does in Go). A unary RPC becomes a Connect
// unary call whose decoded message is handed over beside an empty body; a server-streaming one a Connect
// streaming call whose request is one enveloped message (and whose request may be resumed by an SSE
// Last-Event-ID, see sse.ts).
import { fromJson, toBinary, type DescMessage, type JsonObject, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalHandler, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import { contentTypeStreamProto, contentTypeUnaryProto } from "@connectrpc/connect/protocol-connect";
import type { FastifyReply, FastifyRequest } from "fastify";
import { restTimeoutMs } from "../deadlines.js";
import { buildRequestJson, type HttpBinding, type QueryParams } from "./mapping.js";
import { applyLastEventId } from "./sse.js";

/** Headers that describe the REST exchange itself, not the call: never forwarded to or from the handler. */
export const HOP_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-type",
  "content-length",
  "content-encoding",
  "accept-encoding",
  "te",
  "upgrade",
  "http2-settings",
]);

/**
 * The Connect streaming protocol's own headers for the envelope compression: the REST client did not choose
 * them (a REST client sending them would get compressed frames back), so they are never forwarded either.
 */
const CONNECT_STREAM_HEADERS: ReadonlySet<string> = new Set(["connect-content-encoding", "connect-accept-encoding"]);

/** Envelope flags of a plain (uncompressed) message frame. */
const MESSAGE_FLAGS = 0;

const EMPTY = new Uint8Array(0);

/** A unary REST call's request message, decoded from path, query and body by the REST layer. */
const kRestMessage = createContextKey<Message | undefined>(undefined, { description: "REST request message" });

/**
 * Puts a unary REST call's decoded message in place of the empty one its Connect request carried. The
 * first interceptor, so every other one (errors, authentication, validation) sees the real message.
 */
export const restMessageInterceptor: Interceptor = (next) => (req) => {
  if (req.stream) return next(req);
  const message = req.contextValues.get(kRestMessage);
  return next(message === undefined ? req : { ...req, message });
};

/**
 * The call's abort controller: the call is canceled when the REST client goes away before the answer ends.
 * The stream writer also aborts it itself when it stops reading early (HEAD).
 */
export function abortWhenClientLeaves(reply: FastifyReply): AbortController {
  const abort = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) abort.abort(new ConnectError("client disconnected", Code.Canceled));
  });
  return abort;
}

/**
 * The Connect request for one REST call of a unary or server-streaming RPC. Throws InvalidArgument naming
 * the field (or the Last-Event-ID header) when path, query, body or header do not make a valid request.
 */
export function buildConnectRequest(
  handler: UniversalHandler,
  binding: HttpBinding,
  req: FastifyRequest,
  contextValues: ContextValues,
  signal: AbortSignal,
): UniversalServerRequest {
  const { method } = handler;
  const streaming = method.methodKind === "server_streaming";
  const pathValues = binding.template.bind(req.params as Record<string, string>);
  let json = buildRequestJson(method.input, binding, pathValues, req.query as QueryParams, req.body);
  if (streaming) json = applyLastEventId(method.input, json, singleHeader(req.headers["last-event-id"]));
  const decoded = decodeRequest(method.input, json);
  const timeoutMs = restTimeoutMs(req.headers);
  // A unary call hands its decoded message over as is (restMessageInterceptor): encoding it only for Connect
  // to decode it again cost 70% of a 2 MB call's CPU. A stream's one message still goes in its body.
  if (!streaming) contextValues.set(kRestMessage, decoded);
  const message = streaming ? toBinary(method.input, decoded) : EMPTY;
  const body = streaming ? encodeEnvelope(MESSAGE_FLAGS, message) : message;

  const header = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_HEADERS.has(name) || CONNECT_STREAM_HEADERS.has(name) || name.startsWith(":")) continue;
    for (const v of Array.isArray(value) ? value : [value]) header.append(name, v);
  }
  header.set("content-type", streaming ? contentTypeStreamProto : contentTypeUnaryProto);
  header.set("connect-protocol-version", "1");
  header.delete("grpc-timeout");
  if (timeoutMs !== undefined) header.set("connect-timeout-ms", timeoutMs);

  return {
    httpVersion: req.raw.httpVersion,
    url: `http://${req.host || "localhost"}${handler.requestPath}`,
    method: "POST",
    header,
    body: (async function* () {
      yield body;
    })(),
    signal,
    contextValues,
  };
}

function singleHeader(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === "string" || value === undefined ? value : value.join(",");
}

/** The request message; InvalidArgument naming the offending field when the JSON does not decode. */
function decodeRequest<Desc extends DescMessage>(desc: Desc, json: JsonObject) {
  try {
    return fromJson(desc, json);
  } catch (err) {
    const message = (err as Error).message;
    // protobuf-es names the message type but not always the field; find the field by decoding each alone.
    const field = Object.keys(json).find((key) => {
      try {
        fromJson(desc, { [key]: json[key] ?? null });
        return false;
      } catch {
        return true;
      }
    });
    const named = field === undefined || message.includes(`"${field}"`) ? message : `${field}: ${message}`;
    throw new ConnectError(named, Code.InvalidArgument);
  }
}
