// REST request -> a Connect call on the router's own universal handler: the request message from path,
// query and body (mapping.ts), sent as a Connect binary request, so validation, interceptors and error
// mapping are the ones every other protocol goes through (as Vanguard does in Go).
import { fromJson, toBinary, type DescMessage, type DescMethod, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { buildRequestJson, type HttpBinding, type QueryParams } from "./mapping.js";

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
 * The Connect request for one REST call. Throws InvalidArgument naming the field when path, query or body
 * do not make a valid request message.
 */
export function buildConnectRequest(
  handler: UniversalHandler,
  binding: HttpBinding,
  req: FastifyRequest,
  reply: FastifyReply,
  contextValues: ContextValues,
): UniversalServerRequest {
  const method = handler.method as DescMethod & { methodKind: "unary" };
  const pathValues = binding.template.bind(req.params as Record<string, string>);
  const json = buildRequestJson(method.input, binding, pathValues, req.query as QueryParams, req.body);
  const body = toBinary(method.input, decodeRequest(method.input, json));

  const header = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_HEADERS.has(name) || name.startsWith(":")) continue;
    for (const v of Array.isArray(value) ? value : [value]) header.append(name, v);
  }
  header.set("content-type", "application/proto");
  header.set("connect-protocol-version", "1");

  // The call is canceled when the REST client goes away before the answer.
  const abort = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) abort.abort(new ConnectError("client disconnected", Code.Canceled));
  });

  return {
    httpVersion: req.raw.httpVersion,
    url: `http://${req.host || "localhost"}${handler.requestPath}`,
    method: "POST",
    header,
    body: (async function* () {
      yield body;
    })(),
    signal: abort.signal,
    contextValues,
  };
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
