// REST/JSON on the google.api.http paths, derived from the descriptors at start-up: no route is written by
// hand. Each REST call becomes a Connect binary call on the router's own universal handler (as Vanguard does
// in Go), so validation, interceptors and error mapping are the ones every other protocol goes through.
import { fromBinary, fromJson, toBinary, toJson, type DescMessage, type DescMethod, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HTTP_STATUS_BY_CODE } from "../errors.js";
import { buildRequestJson, httpBindings, type HttpBinding, type HttpMethod, type QueryParams } from "./mapping.js";

/** A registered REST route, kept so that a wrong method on a known path can answer 405. */
export interface RestRoute {
  readonly httpMethod: HttpMethod;
  readonly pattern: RegExp;
  readonly procedure: string;
}

export interface RestOptions {
  /** The same per-request context the Connect routes get (logger, auth, ...). */
  readonly contextValues: (req: FastifyRequest) => ContextValues;
  readonly bodyLimitBytes: number;
}

/** Headers that describe the REST exchange itself, not the call: never forwarded to the handler. */
const HOP_HEADERS = new Set([
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

/** Registers every unary RPC's bindings on `app`. Call inside its own plugin scope (it sets body parsing). */
export function registerRestRoutes(app: FastifyInstance, handlers: readonly UniversalHandler[], options: RestOptions): RestRoute[] {
  // REST bodies are JSON whatever the Content-Type says (curl -d sends form encoding by default), and an
  // empty body is an empty request, as in gRPC-gateway.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: options.bodyLimitBytes }, (_req, raw, done) => {
    const text = (raw as Buffer).toString("utf8").trim();
    if (text === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new ConnectError(`request body is not valid JSON: ${(err as Error).message}`, Code.InvalidArgument), undefined);
    }
  });

  const routes: RestRoute[] = [];
  for (const handler of handlers) {
    const bindings = httpBindings(handler.method);
    if (bindings.length > 0 && handler.method.methodKind !== "unary") {
      app.log.warn({ procedure: handler.requestPath }, "streaming RPCs are not served over REST yet; skipped");
      continue;
    }
    for (const binding of bindings) {
      app.route({
        method: binding.httpMethod,
        url: binding.template.routePath,
        bodyLimit: options.bodyLimitBytes,
        handler: (req, reply) => transcode(handler, binding, req, reply, options),
      });
      routes.push({ httpMethod: binding.httpMethod, pattern: binding.template.pattern, procedure: handler.requestPath });
    }
  }
  return routes;
}

async function transcode(
  handler: UniversalHandler,
  binding: HttpBinding,
  req: FastifyRequest,
  reply: FastifyReply,
  options: RestOptions,
): Promise<void> {
  const method = handler.method as DescMethod & { methodKind: "unary" };
  const pathValues = binding.template.bind(req.params as Record<string, string>);
  const json = buildRequestJson(method.input, binding, pathValues, req.query as QueryParams, req.body);
  const request = decodeRequest(method.input, json);

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

  const body = toBinary(method.input, request);
  const response = await handler({
    httpVersion: req.raw.httpVersion,
    url: `http://${req.host || "localhost"}${handler.requestPath}`,
    method: "POST",
    header,
    body: (async function* () {
      yield body;
    })(),
    signal: abort.signal,
    contextValues: options.contextValues(req),
  });
  const bytes = await readAll(response.body);

  response.header?.forEach((value, name) => {
    if (!HOP_HEADERS.has(name)) void reply.header(name, value);
  });
  if (response.status !== 200) {
    const error = JSON.parse(new TextDecoder().decode(bytes)) as JsonObject;
    const code = codeFromString(String(error.code)) ?? Code.Unknown;
    await reply.code(HTTP_STATUS_BY_CODE[code]).type("application/json").send(error);
    return;
  }
  const message = fromBinary(method.output, bytes);
  let out: JsonValue = toJson(method.output, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
  if (binding.responseBody !== "") out = (out as JsonObject)[binding.responseBody] ?? null;
  await reply.code(200).type("application/json").send(out);
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

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
