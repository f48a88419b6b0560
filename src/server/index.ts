// The transport layer: the one-port listener, REST transcoding, reflection, health and the error tables.
export {
  createErrorInterceptor,
  errorBody,
  HTTP_STATUS_BY_CODE,
  kLogger,
  restError,
  restErrorOfFramework,
  toConnectError,
} from "./errors.js";
export { cachedProbe, registerGrpcHealth, registerHttpHealth } from "./health.js";
export type { ReadinessProbe } from "./health.js";
export { createOnePortServer } from "./listener.js";
export type { OnePortServerOptions } from "./listener.js";
export { reportParseErrorsAsInvalidArgument } from "./parse-errors.js";
export { registerReflection } from "./reflection.js";
export { registerRestRoutes } from "./rest/transcoder.js";
export type { RestOptions, RestRoute } from "./rest/transcoder.js";
