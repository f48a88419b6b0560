// REST/JSON on the google.api.http paths, derived from the descriptors at start-up: no route is written by
// hand. Unary RPCs answer JSON; server-streaming RPCs answer SSE or NDJSON (stream.ts, sse.ts). Each path
// also answers the methods it does not take with 405 and Allow.
import type { ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { FastifyInstance, FastifyRequest, HTTPMethods } from "fastify";
import { Code, ConnectError } from "@connectrpc/connect";
import { methodNotAllowed } from "../fallback.js";
import { streamingRpcOf } from "../metrics.js";
import { httpBindings } from "./mapping.js";
import { abortWhenClientLeaves, buildConnectRequest } from "./request.js";
import { writeUnaryResponse } from "./response.js";
import { writeStreamResponse } from "./stream.js";

export interface RestRoutesOptions {
  readonly handlers: readonly UniversalHandler[];
  /** The same per-request context the Connect routes get (logger, later the caller). */
  readonly contextValues: (req: FastifyRequest) => ContextValues;
  readonly bodyLimitBytes: number;
  /** A streamed answer idle this long gets a heartbeat (an SSE comment, an empty NDJSON line). */
  readonly streamHeartbeatMs?: number | undefined;
}

/** Under the idle timeouts of common proxies and load balancers (nginx 60 s, AWS ALB 60 s). */
const DEFAULT_STREAM_HEARTBEAT_MS = 15_000;

/** Every method a REST path could be called with; the ones it does not take answer 405. */
const HTTP_METHODS: readonly HTTPMethods[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/**
 * Makes `scope` read every body as JSON whatever its Content-Type says (curl -d sends form encoding by
 * default), an empty body as no body, as in gRPC-gateway; invalid JSON is InvalidArgument.
 */
export function parseBodiesAsJson(scope: FastifyInstance, bodyLimitBytes?: number): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: bodyLimitBytes }, (_req, raw, done) => {
    const text = (raw as Buffer).toString("utf8").trim();
    if (text === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new ConnectError(`request body is not valid JSON: ${(err as Error).message}`, Code.InvalidArgument), undefined);
    }
  });
}

/** A Fastify plugin: register it in its own scope, since it sets that scope's body parsing. */
export async function restRoutes(scope: FastifyInstance, options: RestRoutesOptions): Promise<void> {
  parseBodiesAsJson(scope, options.bodyLimitBytes);

  const heartbeatMs = options.streamHeartbeatMs ?? DEFAULT_STREAM_HEARTBEAT_MS;
  if (!(heartbeatMs > 0)) throw new Error(`streamHeartbeatMs must be a positive number of milliseconds, got ${heartbeatMs}`);

  const methodsByPath = new Map<string, Set<HTTPMethods>>();
  for (const handler of options.handlers) {
    const bindings = httpBindings(handler.method);
    const { methodKind } = handler.method;
    if (bindings.length > 0 && methodKind !== "unary" && methodKind !== "server_streaming") {
      // One REST request carries one request message: a client stream has no REST form.
      scope.log.warn({ procedure: handler.requestPath }, "client- and bidi-streaming RPCs cannot be served over REST; skipped");
      continue;
    }
    for (const binding of bindings) {
      scope.route({
        method: binding.httpMethod,
        url: binding.template.routePath,
        config: { access: "rpc", rpcForm: "rest", streamingRpc: streamingRpcOf(handler) },
        bodyLimit: options.bodyLimitBytes,
        handler: async (req, reply) => {
          const abort = abortWhenClientLeaves(reply);
          const request = buildConnectRequest(handler, binding, req, options.contextValues(req), abort.signal);
          if (methodKind === "server_streaming") {
            await writeStreamResponse(handler.method, binding, handler(request), req, reply, { heartbeatMs, abort });
          } else {
            await writeUnaryResponse(handler.method, binding, await handler(request), reply);
          }
        },
      });
      const methods = methodsByPath.get(binding.template.routePath) ?? new Set();
      methods.add(binding.httpMethod);
      if (binding.httpMethod === "GET") methods.add("HEAD"); // Fastify answers HEAD for every GET route
      methodsByPath.set(binding.template.routePath, methods);
    }
  }
  for (const [url, methods] of methodsByPath) {
    const others = HTTP_METHODS.filter((m) => !methods.has(m));
    const allowed = [...methods].filter((m) => m !== "HEAD");
    if (others.length > 0) scope.route({ method: [...others], url, config: { access: "rpc", rpcForm: "rest" }, handler: methodNotAllowed(allowed) });
  }
}
