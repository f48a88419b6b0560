// CORS for browsers (@fastify/cors), with the headers the Connect, gRPC-Web and REST forms need: allowed on
// requests (the protocols' own, and Flowgate's credentials, request id and resume headers) and exposed on
// answers (a gRPC-Web status, the request id, a config's ETag, a rate limit's Retry-After). Preflight
// requests are answered in an onRequest hook, before authentication and before any handler runs: a
// browser sends them without credentials.
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";

/** Request headers a browser may send: Connect's and gRPC-Web's (as connect-es lists them), then Flowgate's. */
export const CORS_ALLOWED_HEADERS = [
  "Content-Type",
  "Connect-Protocol-Version",
  "Connect-Timeout-Ms",
  "Connect-Accept-Encoding",
  "Connect-Content-Encoding",
  "Grpc-Timeout",
  "X-Grpc-Web",
  "X-User-Agent",
  "Authorization",
  "X-Api-Key",
  "X-Request-Id",
  "Last-Event-Id",
  "If-Match",
  "Traceparent",
  "Tracestate",
] as const;

/** Response headers a browser's script may read. */
export const CORS_EXPOSED_HEADERS = [
  "Grpc-Status",
  "Grpc-Message",
  "Grpc-Status-Details-Bin",
  "Connect-Content-Encoding",
  "X-Request-Id",
  "ETag",
  "Retry-After",
] as const;

/** How long a browser may reuse a preflight's answer: 2 h, Chromium's own cap. */
const PREFLIGHT_MAX_AGE_S = 7200;

/** Registers CORS for `origins` ("*" for any); call it before the routes, and before authentication's hook. */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  await app.register(cors, {
    origin: origins.includes("*") ? "*" : [...origins],
    methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: [...CORS_ALLOWED_HEADERS],
    exposedHeaders: [...CORS_EXPOSED_HEADERS],
    // Credentials travel in headers (Authorization, x-api-key), never in cookies.
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE_S,
  });
}
