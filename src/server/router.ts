// The one router: built from the list of served services plus the platform services derived from it
// (grpc.health.v1, server reflection). Its handlers are what both the Connect mount and REST serve.
import type { DescService } from "@bufbuild/protobuf";
import { createConnectRouter, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createHealthService, type ReadinessProbe } from "./health.js";
import { reportParseErrorsAsInvalidArgument } from "./parse-errors.js";
import { reflectionServices } from "./reflection.js";

/** One served service: its descriptor and its handlers. Adding a service means adding one of these. */
export interface ServedService<S extends DescService = DescService> {
  readonly service: S;
  readonly implementation: Partial<ServiceImpl<S>>;
}

/** Binds a service to its implementation, keeping the two types tied together. */
export function serve<S extends DescService>(service: S, implementation: Partial<ServiceImpl<S>>): ServedService {
  return { service, implementation };
}

export interface RouterOptions {
  readonly interceptors: readonly Interceptor[];
  readonly readMaxBytes: number;
  readonly shutdownSignal: AbortSignal;
  readonly readiness: ReadinessProbe;
}

/** Every RPC's universal handler, application services first, in the order `grpcurl list` shows them. */
export function buildHandlers(services: readonly ServedService[], options: RouterOptions): UniversalHandler[] {
  const router = createConnectRouter({
    interceptors: [...options.interceptors],
    readMaxBytes: options.readMaxBytes,
    // A misspelt field is a client's mistake to report, not to drop silently (connect-es ignores them).
    jsonOptions: { ignoreUnknownFields: false },
    acceptCompression: [compressionGzip, compressionBrotli],
    shutdownSignal: options.shutdownSignal,
  });
  const application = services.map((s) => s.service);
  const all = [
    ...services,
    serve(Health, createHealthService(application, options.readiness)),
    ...reflectionServices([...application, Health]),
  ];
  for (const { service, implementation } of all) router.service(service, implementation);
  return router.handlers.map(reportParseErrorsAsInvalidArgument);
}
