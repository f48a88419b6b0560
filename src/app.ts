// The composition root: the domain (registry, workflow operations on the Temporal engine), the services
// that expose it, and the transport they are served on. It never listens: src/main.ts does, and tests call
// `app.listen({ port: 0 })`.
import type { JsonObject } from "@bufbuild/protobuf";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { CALLBACKS_ERROR_TABLE, CallbackAllowlist, CompletionCallbacks, type CallbackSettings } from "./callbacks/index.js";
import { compatRoutes } from "./compat/index.js";
import { CONFIGS_ERROR_TABLE, ConfigMaps, ConfigStore } from "./configs/index.js";
import type { Database } from "./database/index.js";
import { FILES_ERROR_TABLE, type FileStore } from "./files/index.js";
import { HANDLER_ERROR_TABLE, HandlerHooks, type AppHandler } from "./handler/index.js";
import { checkTriggers, EVENTS_ERROR_TABLE, EventTriggers, type TriggerDefinition } from "./events/index.js";
import { OPERATIONS_ERROR_TABLE, WorkflowOperations, type WorkflowEngine } from "./operations/index.js";
import { loadWorkflowsFile, REGISTRY_ERROR_TABLE, WorkflowRegistry, type WorkflowTypeDefinition } from "./registry/index.js";
import { SAMPLE_CONFIG_MAPS, SAMPLE_TRIGGERS, SAMPLE_WORKFLOW_TYPES } from "./samples/index.js";
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { AUTH_ERROR_TABLE } from "./auth/index.js";
import { mapThroughTables } from "./errors/index.js";
import { Metrics, Tracing } from "./observability/index.js";
import { cachedProbe, createServer, type AuthSettings, type Readiness, type ServerOptions } from "./server/index.js";
import { createServices, uploadRoute } from "./services/index.js";
import { TEMPORAL_ERROR_TABLE, TemporalEngine, type TemporalClient } from "./temporal/index.js";

export interface AppOptions {
  readonly config: Pick<Config, "bodyLimitBytes" | "taskQueue" | "runTimeoutMs"> &
    Partial<
      Pick<
        Config,
        | "shutdownGraceMs"
        | "rateLimit"
        | "maxStreamsPerCaller"
        | "shedEventLoopDelayMs"
        | "headersTimeoutMs"
        | "bodyTimeoutMs"
        | "maxConnections"
        | "maxConnectionsPerAddress"
        | "maxStreamsPerConnection"
        | "tracing"
      >
    >;
  readonly logger: Logger;
  readonly temporal: TemporalClient;
  /** The workflow types the API may start. */
  readonly registry: WorkflowRegistry;
  /** The event triggers PublishEvent offers events to; none by default. */
  readonly triggers?: readonly TriggerDefinition[] | undefined;
  /** Where configs are stored: PGlite or PostgreSQL, migrated (openDatabase). The caller closes it. */
  readonly database: Database;
  /** The config maps (forms) GetConfigMap serves, by id; none by default. */
  readonly configMaps?: Readonly<Record<string, JsonObject>> | undefined;
  /** Where UploadFile stores files, and its size limit (which also bounds the multipart route). */
  readonly files: { readonly store: FileStore; readonly maxBytes: number };
  /** Completion callbacks: the origins a start may name and how deliveries retry; absent: callbacks off. */
  readonly callbacks?: CallbackSettings | undefined;
  /** The application's hooks TestAuth, FetchMetadata and PreflightCheck call; without one they are Unimplemented. */
  readonly handler?: AppHandler | undefined;
  /** When set, the app is ready only once a worker has polled this task queue (the embedded worker's). */
  readonly workerTaskQueue?: string | undefined;
  /** Where calls, Temporal requests and fired triggers are counted (GET /metrics); the app's own by default. */
  readonly metrics?: Metrics | undefined;
  /** Origins browsers may call from ("*" for any); absent or empty: CORS off. */
  readonly corsOrigins?: readonly string[] | undefined;
  /** Who may call what; absent: authentication off. */
  readonly auth?: AuthSettings | undefined;
  /** PEM certificate and key: TLS is then accepted on the same port, beside cleartext; see ServerOptions. */
  readonly tls?: ServerOptions["tls"];
  /** How often the event-loop delay is sampled for load shedding; 1 s by default (tests sample faster). */
  readonly loadSampleIntervalMs?: number | undefined;
  /** How much of a body answered before it was read is still drained; see ServerOptions. */
  readonly unreadBody?: ServerOptions["unreadBody"];
}

/** What the configuration declares: the workflow types, event triggers and config maps the app serves. */
export interface Declared {
  readonly registry: WorkflowRegistry;
  readonly triggers: readonly TriggerDefinition[];
  readonly configMaps: Readonly<Record<string, JsonObject>>;
}

/** What an application declares in code (the library's options), beside the file's. */
export interface CodeDeclarations {
  readonly workflowTypes?: readonly WorkflowTypeDefinition[];
  readonly triggers?: readonly TriggerDefinition[];
  readonly configMaps?: Readonly<Record<string, JsonObject>>;
}

/**
 * The samples' declarations (when on), then the workflow-types file's, then the code's. Throws
 * RegistrationError naming the file, line and problem when the file cannot be used (or a name is declared
 * twice), and TriggerRegistrationError for a trigger whose workflow type or paths are wrong, before anything
 * starts.
 */
export async function loadDeclarations(
  config: Pick<Config, "samples" | "workflowsFile" | "allowUnregistered">,
  code: CodeDeclarations = {},
): Promise<Declared> {
  const file = config.workflowsFile === undefined ? undefined : await loadWorkflowsFile(config.workflowsFile);
  const registry = new WorkflowRegistry([...(config.samples ? SAMPLE_WORKFLOW_TYPES : []), ...(file?.workflows ?? []), ...(code.workflowTypes ?? [])], {
    allowUnregistered: config.allowUnregistered,
  });
  // The file's conditions were checked for shape; EventTriggers checks their paths and tests.
  const triggers = [...(config.samples ? SAMPLE_TRIGGERS : []), ...((file?.triggers ?? []) as TriggerDefinition[]), ...(code.triggers ?? [])];
  checkTriggers(triggers, registry);
  const configMaps = { ...(config.samples ? SAMPLE_CONFIG_MAPS : {}), ...file?.configMaps, ...code.configMaps };
  return { registry, triggers, configMaps };
}

export async function createApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const metrics = options.metrics ?? new Metrics();
  // Every call to Temporal is timed, its failure counted by the Connect code it maps to.
  // Off unless an OTLP endpoint is configured; its spans are flushed when the app closes.
  const tracing = config.tracing === undefined ? undefined : new Tracing(config.tracing);
  const engine = metrics.timeTemporal(new TemporalEngine(options.temporal, tracing), (err) => codeToString(mapThroughTables([TEMPORAL_ERROR_TABLE], err)?.code ?? Code.Internal));
  const workflows = new WorkflowOperations(engine, options.registry, {
    defaultTaskQueue: config.taskQueue,
    runTimeoutMs: config.runTimeoutMs,
  });
  const triggers = new EventTriggers(options.triggers ?? [], workflows, (fired) =>
    metrics.triggersFired.inc({ trigger: fired.triggerId, outcome: fired.started ? "started" : "already_started" }),
  );
  const configs = new ConfigStore(options.database);
  const configMaps = new ConfigMaps(options.configMaps ?? {});
  const hooks = new HandlerHooks(options.handler);
  const callbacks = new CompletionCallbacks(engine, options.callbacks ?? { allowlist: new CallbackAllowlist([]), taskQueue: "", attempts: 0 });
  const errorTables = [
    AUTH_ERROR_TABLE,
    OPERATIONS_ERROR_TABLE,
    EVENTS_ERROR_TABLE,
    CONFIGS_ERROR_TABLE,
    HANDLER_ERROR_TABLE,
    FILES_ERROR_TABLE,
    CALLBACKS_ERROR_TABLE,
    REGISTRY_ERROR_TABLE,
    TEMPORAL_ERROR_TABLE,
  ];
  const readiness = cachedProbe(readinessCheck(engine, options.workerTaskQueue));
  const app = await createServer({
    services: createServices({ workflows, triggers, configs, configMaps, hooks, files: options.files.store, callbacks }),
    errorTables,
    readiness,
    logger: options.logger,
    bodyLimitBytes: config.bodyLimitBytes,
    auth: options.auth,
    corsOrigins: options.corsOrigins,
    metrics,
    tracing,
    tls: options.tls,
    unreadBody: options.unreadBody,
    shutdownGraceMs: config.shutdownGraceMs,
    connections: {
      headersTimeoutMs: config.headersTimeoutMs,
      bodyTimeoutMs: config.bodyTimeoutMs,
      maxConnections: config.maxConnections,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      maxStreamsPerConnection: config.maxStreamsPerConnection,
    },
    load: { rate: config.rateLimit, streams: config.maxStreamsPerCaller, shedEventLoopDelayMs: config.shedEventLoopDelayMs, sampleIntervalMs: options.loadSampleIntervalMs },
  });
  if (tracing !== undefined) app.addHook("onClose", () => tracing.shutdown());
  // The seed servers' REST paths, for their existing callers: a compatibility service on the same core.
  await app.register(uploadRoute, { files: options.files.store, maxBytes: options.files.maxBytes });
  await app.register(compatRoutes, { workflows, readiness, resultWaitMs: config.runTimeoutMs });
  return app;
}

/** Ready: Temporal answers for the namespace and, when one is expected, a worker has polled its queue. */
function readinessCheck(engine: WorkflowEngine, workerTaskQueue: string | undefined): () => Promise<Readiness> {
  let workerSeen = workerTaskQueue === undefined;
  return async (): Promise<Readiness> => {
    const temporal = await engine.ready(2000);
    if (!temporal) return { ready: false, checks: { temporal: "unreachable" } };
    if (workerTaskQueue === undefined) return { ready: true, checks: { temporal: "reachable" } };
    // Once seen, a worker stays counted: the embedded worker's process is watched by main.ts.
    workerSeen ||= await engine.hasWorkflowPoller(workerTaskQueue, 2000);
    return { ready: workerSeen, checks: { temporal: "reachable", worker: workerSeen ? "polling" : "not polling yet" } };
  };
}
