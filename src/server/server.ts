// The transport: one Fastify app on the one-port listener, built from the list of served services. Each
// part is its own plugin and gets what it needs as options: the Connect mount and REST share the router's
// handlers; health gets the readiness probe. The domain's error tables come in as arguments.
import http from "node:http";
import type { Duplex } from "node:stream";
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { DescMethod } from "@bufbuild/protobuf";
import { Authenticator, PLATFORM_PARTS, type Access } from "../auth/index.js";
import type { ErrorTable } from "../errors/index.js";
import { accessByMethod, createAuthInterceptor, guardRoutes, type AuthSettings } from "./auth.js";
import { connectRoutes } from "./connect.js";
import { clampDeadlineHeaders } from "./deadlines.js";
import { registerCors } from "./cors.js";
import { instrumentRoutes } from "./metrics.js";
import { Metrics, type Tracing } from "../observability/index.js";
import { traceCalls } from "./tracing.js";
import { callRecordOf, kCall, OneLinePerRequest } from "./access-log.js";
import { createErrorInterceptor, createErrorMapper, restError, restErrorOfFramework, type ErrorMapper } from "./errors.js";
import { answerNoRoute } from "./fallback.js";
import { httpHealthRoutes, type ReadinessProbe } from "./health.js";
import { createOnePortServer, type ConnectionLimits, type ConnectionRefusal } from "./listener.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { restMessageInterceptor } from "./rest/request.js";
import { restRoutes } from "./rest/routes.js";
import { docsRoutes } from "./docs.js";
import { buildHandlers, type ServedService } from "./router.js";
import { CallerLimits, createLimitsInterceptor, limitRoutes, shedLoad, type CallerLimitSettings } from "./limits.js";
import { createDrainInterceptor, Drain, drainAware, refuseWhileDraining } from "./shutdown.js";
import { reloadTlsOnChange, type ServerTls } from "./tls.js";
import { cutSlowBodies } from "./slow-bodies.js";
import { settleUnreadBodies, type UnreadBodyBounds } from "./unread-bodies.js";

export interface ServerOptions {
  /** The application services, in the order `grpcurl list` shows them. */
  readonly services: readonly ServedService[];
  /** The domain's error tables, tried in order. */
  readonly errorTables: readonly ErrorTable[];
  /** What GET /health/ready and grpc.health.v1 report for the application services. */
  readonly readiness: ReadinessProbe;
  readonly logger: Logger;
  /** Largest request body on any protocol, in bytes. */
  readonly bodyLimitBytes: number;
  /** PEM certificate and key: TLS is then accepted on the same port, beside cleartext (see ServerTls). */
  readonly tls?: ServerTls | undefined;
  /** Where calls are counted (GET /metrics); a registry of the app's own by default. */
  readonly metrics?: Metrics | undefined;
  /** Where each call's span goes; absent: no tracing. */
  readonly tracing?: Tracing | undefined;
  /** Origins browsers may call from ("*" for any); absent or empty: CORS off (same-origin pages only). */
  readonly corsOrigins?: readonly string[] | undefined;
  /** Who may call what; absent: authentication off, every platform part public. */
  readonly auth?: AuthSettings | undefined;
  /** Idle time after which a streamed REST answer (SSE, NDJSON) gets a heartbeat; 15 s by default. */
  readonly streamHeartbeatMs?: number | undefined;
  /**
   * On close (SIGTERM), how long the calls in flight get to finish before those still waiting are answered
   * Unavailable; 10 s by default.
   */
  readonly shutdownGraceMs?: number | undefined;
  /** What one caller may take (calls per window, open streams), and when the whole server sheds load. */
  readonly load?: LoadSettings | undefined;
  /** How much of a body answered before it was read is still drained; 5 s and one more body limit by default. */
  readonly unreadBody?: Partial<UnreadBodyBounds> | undefined;
  /** Bounds on connections and on how slowly a request may come; CONNECTION_DEFAULTS for what is absent. */
  readonly connections?: Partial<ConnectionSettings> | undefined;
}

/** Bounds against clients that hold connections by sending slowly or by opening many (see listener.ts). */
export interface ConnectionSettings extends ConnectionLimits {
  /** How long a whole-body request's body may take to arrive after its headers (see slow-bodies.ts). */
  readonly bodyTimeoutMs: number;
}

/**
 * Headers within 30 s (Kestrel's default; Node's is 60 s), a whole body within 60 s (nginx waits 60 s
 * between reads; this bounds the whole body, at most the body limit), 250 streams per HTTP/2 connection
 * (Go's default), and no connection caps: behind a load balancer every connection comes from its few
 * addresses, so a cap has to be chosen knowing the deployment.
 */
const CONNECTION_DEFAULTS: ConnectionSettings = {
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 60_000,
  maxStreamsPerConnection: 250,
  maxConnections: 0,
  maxConnectionsPerAddress: 0,
};

export interface LoadSettings extends CallerLimitSettings {
  /**
   * The mean event-loop delay, over each sample interval, above which new calls are refused with
   * Unavailable until it falls again; 0 or absent: never.
   */
  readonly shedEventLoopDelayMs?: number | undefined;
  /** How often the event-loop delay is sampled; 1 s by default. */
  readonly sampleIntervalMs?: number | undefined;
}

/** How long the rest of a body answered early is drained at most: nginx's lingering_timeout. */
const LINGER_MS = 5000;

declare module "fastify" {
  interface FastifyInstance {
    /**
     * What routes registered beside the services (src/compat) share with them, so they close and fail the
     * same way: the signal that aborts every call in flight once the app has been closing for its grace,
     * and the one error mapper.
     */
    readonly flowgate: { readonly shutdown: AbortSignal; readonly errors: ErrorMapper };
  }
}

/** grpc.health.v1's path prefix: its probes report the drain instead of being refused. */
const HEALTH_PATH = `/${Health.typeName}/`;

/** A request id taken from the caller: printable ASCII without spaces, at most 128 characters. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * In-flight calls get this long to finish once the app starts closing; then their signal aborts. Well inside
 * Kubernetes' default 30 s between SIGTERM and SIGKILL, leaving time for the worker to stop after the API.
 */
const SHUTDOWN_GRACE_MS = 10_000;
/** Idle keep-alive connections and HTTP/2 sessions outlive a load balancer's usual 60 s idle timeout. */
const IDLE_TIMEOUT_MS = 72_000;

/** Builds the app; it never listens: src/main.ts does, and tests call `app.listen({ port: 0 })`. */
export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  let listener: ReturnType<typeof createOnePortServer> | undefined;
  const metrics = options.metrics ?? new Metrics();
  const given = Object.entries(options.connections ?? {}).filter(([, value]) => value !== undefined);
  const connections: ConnectionSettings = { ...CONNECTION_DEFAULTS, ...Object.fromEntries(given) };
  // Counted in flowgate_connections_refused_total; logged at most once a minute, not once per connection.
  let refusedSince = 0;
  let lastRefusalLog = 0;
  const noteRefused = (reason: ConnectionRefusal, remoteAddress: string | undefined) => {
    metrics.connectionsRefused.inc({ reason });
    refusedSince += 1;
    const now = Date.now();
    if (now - lastRefusalLog < 60_000) return;
    const cap = reason === "connections" ? connections.maxConnections : connections.maxConnectionsPerAddress;
    app.log.warn(
      { reason, remoteAddress, refused: refusedSince, cap },
      `closing new connections over the cap of ${cap} ${reason === "connections" ? "in all" : "per remote address"}`,
    );
    lastRefusalLog = now;
    refusedSince = 0;
  };
  const noteCloseTimeout = (open: number, afterMs: number) => {
    app.log.warn({ connections: open, afterMs }, `closing: destroyed ${open} connections still open ${afterMs} ms after the last call ended (their clients read no more)`);
  };
  const app = fastify({
    // The assertion is what fixes Fastify's logger type parameter (tsc fails without it).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: options.logger as FastifyBaseLogger,
    serverFactory: (handler) =>
      (listener = createOnePortServer(handler, {
        http2SessionTimeoutMs: IDLE_TIMEOUT_MS,
        keepAliveTimeoutMs: IDLE_TIMEOUT_MS,
        tls: options.tls,
        connections,
        onRefused: noteRefused,
        onCloseTimeout: noteCloseTimeout,
      })) as never,
    bodyLimit: options.bodyLimitBytes,
    routerOptions: {
      // Workflow ids may be 1000 characters, and three times that once percent-encoded in a path.
      maxParamLength: 4096,
      ignoreTrailingSlash: true,
    },
    // An HTTP/1.1 request Node cannot parse (oversized or malformed headers, headers too slow) is answered
    // in the Connect error shape too, as every other refusal is, before its connection is closed.
    clientErrorHandler: answerClientError,
    // A URL Fastify cannot even route (bad percent-encoding) still gets the Connect error shape.
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = restError(new ConnectError(`malformed request URL: ${err.message}`, Code.InvalidArgument));
      void (reply as FastifyReply).code(status).type("application/json").send(body);
    },
    // One line per request instead of Fastify's two.
    logController: new OneLinePerRequest(),
    // The caller's x-request-id when it is a sane one (what a proxy or client generated), else a new UUID;
    // either way it is on every log line of the call and goes back in the x-request-id response header.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Refused by the drain below instead, in the caller's protocol.
    return503OnClosing: false,
  });

  if (options.tls !== undefined) reloadTlsOnChange(app, options.tls, app.log, (material) => listener?.setSecureContext(material));
  settleUnreadBodies(app, { lingerMs: LINGER_MS, lingerBytes: options.bodyLimitBytes, ...options.unreadBody });
  cutSlowBodies(app, connections.bodyTimeoutMs);
  app.addHook("onRequest", (req, reply, done) => {
    void reply.header("x-request-id", req.id);
    clampDeadlineHeaders(req.headers);
    done();
  });
  const auth: AuthSettings = options.auth ?? { authenticator: new Authenticator(), publicParts: new Set(PLATFORM_PARTS) };
  // Before any route: from here on, a route that declares no access cannot be registered. Calls are
  // counted before they are checked, so refusals show in the metrics too.
  instrumentRoutes(app, metrics);
  if (options.tracing !== undefined) traceCalls(app, options.tracing);
  // CORS first: its hook answers a preflight (sent without credentials) before authentication's runs, and
  // its catch-all OPTIONS route only lets the router accept one.
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) await registerCors(app, options.corsOrigins);
  // Refused while shutting down or overloaded before anything else is checked; the probes and metrics
  // keep answering.
  const isProbe = (req: FastifyRequest) => {
    const access = req.routeOptions.config.access;
    // The docs (the OpenAPI document, the UI's files) are served like any call: limited, shed and drained.
    return (typeof access === "object" && "platform" in access && access.platform !== "docs") || req.url.startsWith(HEALTH_PATH);
  };
  const drain = new Drain();
  refuseWhileDraining(app, drain, isProbe);
  const readiness = drainAware(options.readiness, drain);
  const load = options.load ?? {};
  if ((load.shedEventLoopDelayMs ?? 0) > 0) shedLoad(app, load.shedEventLoopDelayMs!, load.sampleIntervalMs, isProbe);
  guardRoutes(app, auth);
  const limits = new CallerLimits(load);
  if (limits.enabled) limitRoutes(app, limits, isProbe);

  const mapper = createErrorMapper(options.errorTables);
  // Set before any plugin registers: Fastify scopes take their handlers when they are created.
  app.setErrorHandler((err: FastifyError | ConnectError, req, reply) => {
    const { status, body } = restErrorOfFramework(err, mapper, req.routeOptions.bodyLimit ?? options.bodyLimitBytes);
    callRecordOf(req).code = body.code as string;
    if (status >= 500) req.log.error({ err }, "request failed");
    return reply.code(status).type("application/json").send(body);
  });
  app.setNotFoundHandler(answerNoRoute);
  // Connect and REST build the request's URL from its authority: one that is no URL authority at all
  // ("a b", "[::1") is the client's mistake, answered here before it can fail deeper as a server error.
  app.addHook("onRequest", (req, reply, done) => {
    const authority = req.headers[":authority"] ?? req.headers.host;
    if (authority === undefined || URL.canParse(`http://${String(authority)}`)) return done();
    const { status, body } = restError(new ConnectError(`the Host header ${JSON.stringify(authority)} is not a valid authority (host[:port])`, Code.InvalidArgument));
    void reply.code(status).type("application/json").send(body);
  });

  // Every call in flight listens on these (connect links them to the call's own signal until the call ends),
  // so more than ten at once are normal, not the listener leak Node warns of on stderr.
  setMaxListeners(0, drain.callsSignal, drain.streamsSignal);
  const graceMs = options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
  app.addHook("preClose", async () => {
    // HTTP/2 clients learn at once (GOAWAY) to open their next calls elsewhere; their open streams go on.
    listener?.closeHttp2Sessions();
    const report = drain.run(graceMs);
    app.log.info({ graceMs }, "shutting down: readiness is false and new calls are refused; the calls in flight get the grace period");
    const { inFlight, aborted, tookMs } = await report;
    app.log.info({ inFlight, aborted, tookMs }, aborted === 0 ? "drained: every call in flight finished" : `drained: ${aborted} calls still waiting were answered unavailable`);
  });
  app.decorate("flowgate", { shutdown: drain.callsSignal, errors: mapper });

  // Read from the contract once: an RPC that declares no scope stops the server here, before it starts.
  const access = new Map<DescMethod, Access>();
  const handlers = buildHandlers(options.services, {
    // The error interceptor comes first, so it sees (and maps) every failure, validation's included. The
    // caller is checked before the request is: an unknown caller learns nothing about what it sent.
    interceptors: [
      restMessageInterceptor,
      createErrorInterceptor(mapper),
      createDrainInterceptor(drain),
      ...(auth.authenticator.enabled ? [createAuthInterceptor(auth, access)] : []),
      ...(limits.enabled ? [createLimitsInterceptor(limits, (service) => service === Health.typeName)] : []),
      createValidateInterceptor(),
    ],
    readMaxBytes: options.bodyLimitBytes,
    shutdownSignal: drain.callsSignal,
    readiness,
  });
  for (const [method, needed] of accessByMethod(handlers, auth.publicParts)) access.set(method, needed);
  const contextValues = (req: FastifyRequest) => createContextValues().set(kCall, callRecordOf(req));

  await app.register(connectRoutes, { handlers, contextValues });
  await app.register(restRoutes, {
    handlers,
    contextValues,
    bodyLimitBytes: options.bodyLimitBytes,
    streamHeartbeatMs: options.streamHeartbeatMs,
  });
  await app.register(httpHealthRoutes, { readiness });
  await app.register(docsRoutes);
  return app;
}

/** Node's HTTP parser refused a request: a Connect error body with the status Node would have sent. */
function answerClientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  let status: number;
  let error: ConnectError;
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    status = 408;
    error = new ConnectError("the request did not arrive in time", Code.DeadlineExceeded);
  } else if (err.code === "HPE_HEADER_OVERFLOW") {
    status = 431;
    error = new ConnectError(`the request's headers are larger than the limit of ${http.maxHeaderSize} bytes`, Code.ResourceExhausted);
  } else {
    status = 400;
    error = new ConnectError(`malformed HTTP request (${err.code ?? err.message})`, Code.InvalidArgument);
  }
  this.log.debug({ err }, "client error");
  // As Node's own answer: not over a response already under way on this connection.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && inFlight?.headersSent !== true) {
    const body = JSON.stringify(restError(error, status).body);
    socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
