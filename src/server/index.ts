// The transport layer: the one-port listener, the Connect mount, REST transcoding, reflection, health, and
// the HTTP side of errors. It imports no domain module: services and error tables are passed in.
export { callRecordOf, kCall } from "./access-log.js";
export { callerOf } from "./auth.js";
export type { AuthSettings, RouteAccess } from "./auth.js";
export { HTTP_STATUS_BY_CODE, restError } from "./errors.js";
export { cachedProbe } from "./health.js";
export type { Readiness, ReadinessProbe } from "./health.js";
export { parseBodiesAsJson } from "./rest/routes.js";
export { CONTENT_TYPE_BY_FORMAT, formatError, formatMessage, parseLastEventId } from "./rest/sse.js";
export type { StreamFormat } from "./rest/sse.js";
export { serve } from "./router.js";
export type { ServedService } from "./router.js";
export { createServer } from "./server.js";
export { readTlsFiles, TlsFilesError } from "./tls.js";
export type { ServerTls, TlsFiles } from "./tls.js";
export type { ServerOptions } from "./server.js";
