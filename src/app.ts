// Builds the Fastify app that serves every protocol on one port. It never listens: src/main.ts does, and
// tests call `app.listen({ port: 0 })`.
import { randomUUID } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ConnectRouter } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { createValidateInterceptor } from "@connectrpc/validate";
import fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { WorkflowService } from "../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import type { Config } from "./config.js";
import { SAMPLE_WORKFLOWS, WorkflowRegistry, type WorkflowTypeInfo } from "./registry/index.js";
import {
  cachedProbe,
  createErrorInterceptor,
  createOnePortServer,
  kLogger,
  registerGrpcHealth,
  registerHttpHealth,
  registerReflection,
  registerRestRoutes,
  reportParseErrorsAsInvalidArgument,
  restError,
  restErrorOfFramework,
  type RestRoute,
} from "./server/index.js";
import { createWorkflowService } from "./services/index.js";
import { WorkflowOperations, type TemporalClient } from "./temporal/index.js";

export interface AppOptions {
  readonly config: Pick<Config, "bodyLimitBytes" | "taskQueue" | "runTimeoutMs">;
  readonly logger: Logger;
  readonly temporal: TemporalClient;
  /** Workflow types the API accepts; the sample workflows by default. */
  readonly workflowTypes?: readonly WorkflowTypeInfo[];
  /** PEM certificate and key: TLS is then accepted on the same port, beside cleartext. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

/** The application services, in the order `grpcurl list` shows them. */
const SERVED: readonly DescService[] = [WorkflowService];

export async function createApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, temporal } = options;
  const app = fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    serverFactory: (handler) =>
      createOnePortServer(handler, { http2SessionTimeoutMs: 72_000, keepAliveTimeoutMs: 72_000, tls: options.tls }) as never,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: {
      // Workflow ids may be 1000 characters, and three times that once percent-encoded in a path.
      maxParamLength: 4096,
      ignoreTrailingSlash: true,
    },
    // A URL Fastify cannot even route (bad percent-encoding) still gets the Connect error shape.
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = restError(new ConnectError(`malformed request URL: ${err.message}`, Code.InvalidArgument));
      void (reply as FastifyReply).code(status).type("application/json").send(body);
    },
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });

  const operations = new WorkflowOperations(temporal);
  const registry = new WorkflowRegistry(options.workflowTypes ?? SAMPLE_WORKFLOWS);
  const probe = cachedProbe(() => operations.ready(2000));
  const contextValues = (req: FastifyRequest) => createContextValues().set(kLogger, req.log);
  let restRoutes: RestRoute[] = [];


  // Set before any plugin registers: Fastify scopes take their handlers when they are created.
  app.setErrorHandler((err: FastifyError | ConnectError, req, reply) => {
    const { status, body } = restErrorOfFramework(err);
    if (status >= 500) req.log.error({ err }, "request failed");
    return reply.code(status).type("application/json").send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0]!;
    // A gRPC client wants a gRPC status (trailers-only), not an HTTP error page.
    if (/^application\/grpc(?![-\w])/.test(req.headers["content-type"] ?? "")) {
      return reply
        .code(200)
        .headers({ "content-type": "application/grpc", "grpc-status": String(Code.Unimplemented), "grpc-message": encodeURIComponent(`unknown method ${path}`) })
        .send();
    }
    const allowed = [...new Set(restRoutes.filter((r) => r.pattern.test(path)).map((r) => r.httpMethod))];
    if (allowed.length > 0) {
      const err = new ConnectError(`method ${req.method} is not allowed on ${path}; use ${allowed.join(" or ")}`, Code.Unimplemented);
      return reply.code(405).header("allow", allowed.join(", ")).send(restError(err, 405).body);
    }
    return reply.code(404).send(restError(new ConnectError(`no route for ${req.method} ${path}`, Code.NotFound), 404).body);
  });

  // Connect, gRPC and gRPC-Web: one router. The error interceptor comes first, so it sees (and maps) every
  // failure, validation's included.
  let router: ConnectRouter | undefined;
  await app.register(fastifyConnectPlugin, {
    interceptors: [createErrorInterceptor(), createValidateInterceptor()],
    readMaxBytes: config.bodyLimitBytes,
    // A misspelt field is a client's mistake to report, not to drop silently (connect-es ignores them).
    jsonOptions: { ignoreUnknownFields: false },
    shutdownTimeoutMs: 5000,
    contextValues,
    routes(r) {
      router = r;
      r.service(
        WorkflowService,
        createWorkflowService({
          operations,
          registry,
          defaultTaskQueue: config.taskQueue,
          runTimeoutMs: config.runTimeoutMs,
        }),
      );
      registerGrpcHealth(r, SERVED, probe);
      registerReflection(r, [...SERVED, Health]);
      r.handlers.splice(0, r.handlers.length, ...r.handlers.map(reportParseErrorsAsInvalidArgument));
    },
  });

  // REST: the same router's handlers, on the google.api.http paths.
  await app.register(async (scope) => {
    restRoutes = registerRestRoutes(scope, router!.handlers, { contextValues, bodyLimitBytes: config.bodyLimitBytes });
  });

  registerHttpHealth(app, probe);

  return app;
}
