// REST/JSON on the google.api.http paths, derived from the descriptors at start-up: no route is written by
// hand. Each path also answers the methods it does not take with 405 and Allow.
import type { ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { FastifyInstance, FastifyRequest, HTTPMethods } from "fastify";
import { Code, ConnectError } from "@connectrpc/connect";
import { methodNotAllowed } from "../fallback.js";
import { httpBindings } from "./mapping.js";
import { buildConnectRequest } from "./request.js";
import { writeUnaryResponse } from "./response.js";

export interface RestRoutesOptions {
  readonly handlers: readonly UniversalHandler[];
  /** The same per-request context the Connect routes get (logger, later the caller). */
  readonly contextValues: (req: FastifyRequest) => ContextValues;
  readonly bodyLimitBytes: number;
}

/** Every method a REST path could be called with; the ones it does not take answer 405. */
const HTTP_METHODS: readonly HTTPMethods[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** A Fastify plugin: register it in its own scope, since it sets that scope's body parsing. */
export async function restRoutes(scope: FastifyInstance, options: RestRoutesOptions): Promise<void> {
  // REST bodies are JSON whatever the Content-Type says (curl -d sends form encoding by default), and an
  // empty body is an empty request, as in gRPC-gateway.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: options.bodyLimitBytes }, (_req, raw, done) => {
    const text = (raw as Buffer).toString("utf8").trim();
    if (text === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new ConnectError(`request body is not valid JSON: ${(err as Error).message}`, Code.InvalidArgument), undefined);
    }
  });

  const methodsByPath = new Map<string, Set<HTTPMethods>>();
  for (const handler of options.handlers) {
    const bindings = httpBindings(handler.method);
    if (bindings.length > 0 && handler.method.methodKind !== "unary") {
      scope.log.warn({ procedure: handler.requestPath }, "streaming RPCs are not served over REST yet; skipped");
      continue;
    }
    for (const binding of bindings) {
      scope.route({
        method: binding.httpMethod,
        url: binding.template.routePath,
        bodyLimit: options.bodyLimitBytes,
        handler: async (req, reply) => {
          const request = buildConnectRequest(handler, binding, req, reply, options.contextValues(req));
          await writeUnaryResponse(handler.method, binding, await handler(request), reply);
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
    if (others.length > 0) scope.route({ method: [...others], url, handler: methodNotAllowed(allowed) });
  }
}
