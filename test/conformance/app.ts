// The conformance service on Flowgate's own transport: the app createServer builds (Fastify, the one-port
// listener with h2c, HTTP/1.1 and TLS, the error handling, health, reflection), serving
// connectrpc.conformance.v1.ConformanceService beside its platform services.
//
// Workaround, in this file only: createServer's router has no JSON type registry, so it cannot write a
// google.protobuf.Any to JSON ("... is not in the type registry"), and every conformance answer echoes its
// requests as Any. Until src/server/router.ts builds the JSON registry from the served services' files, the
// conformance service is mounted here with a router configured as router.ts configures its own (same
// interceptors, limits, compression and JSON options, plus the registry), on the same Connect mount and
// parse-error wrapper. Once it does, `createServer({ services: [serve(ConformanceService, ...)] })` is
// all this file needs (FLOWGATE_CONFORMANCE_MOUNT=createServer runs that path today, to show the gap).
import { createRegistry } from "@bufbuild/protobuf";
import { createConnectRouter, createContextValues } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { createValidateInterceptor } from "@connectrpc/validate";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { connectRoutes } from "../../src/server/connect.js";
import { createErrorInterceptor, createErrorMapper } from "../../src/server/errors.js";
import { createServer, serve, type ReadinessProbe } from "../../src/server/index.js";
import { reportParseErrorsAsInvalidArgument } from "../../src/server/parse-errors.js";
import { conformanceService } from "./conformance-service.js";
import { file_connectrpc_conformance_v1_service, ConformanceService } from "./gen/connectrpc/conformance/v1/service_pb.js";

export interface ConformanceAppOptions {
  readonly logger: Logger;
  /** Largest request message, in bytes (Flowgate's FLOWGATE_BODY_LIMIT). */
  readonly bodyLimitBytes: number;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined;
  /** "createServer" serves the service through createServer's own router (no JSON registry, see above). */
  readonly mount: "workaround" | "createServer";
}

const ALWAYS_READY: ReadinessProbe = { check: async () => ({ ready: true, checks: {} }) };

export async function createConformanceApp(options: ConformanceAppOptions): Promise<FastifyInstance> {
  const base = { errorTables: [], readiness: ALWAYS_READY, logger: options.logger, bodyLimitBytes: options.bodyLimitBytes, tls: options.tls };
  if (options.mount === "createServer") {
    return createServer({ ...base, services: [serve(ConformanceService, conformanceService)] });
  }
  const app = await createServer({ ...base, services: [] });
  const mapper = createErrorMapper([]);
  // As src/server/router.ts builds its router, plus the registry.
  const router = createConnectRouter({
    interceptors: [createErrorInterceptor(mapper), createValidateInterceptor()],
    readMaxBytes: options.bodyLimitBytes,
    jsonOptions: { ignoreUnknownFields: false, registry: createRegistry(file_connectrpc_conformance_v1_service) },
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  router.service(ConformanceService, conformanceService);
  const handlers = router.handlers.map(reportParseErrorsAsInvalidArgument);
  // No per-request context: the interceptors then skip what they would record for the request's log line.
  await app.register(connectRoutes, { handlers, contextValues: () => createContextValues() });
  return app;
}
