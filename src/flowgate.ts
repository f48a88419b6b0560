// The library: an application hands Flowgate its workflows, activities, handler, triggers and config maps,
// and gets the whole stack, started and stopped in order. `npm start` (src/main.ts) is this with nothing
// handed in. The configuration alone chooses embedded (a Temporal dev server, PGlite, the data folder) or
// served (a cluster, PostgreSQL, the application's FileStore).
import type { JsonObject } from "@bufbuild/protobuf";
import { access } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createApp, loadDeclarations } from "./app.js";
import { declaredScopes, openAuthenticator, type Authenticator } from "./auth/index.js";
import { CallbackAllowlist, startCallbackWorker } from "./callbacks/index.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { ConfigStore } from "./configs/index.js";
import { openDatabase } from "./database/index.js";
import { assertPortFree, ensureTemporalCli, spawnWorkerProcess, startDevServer } from "./embedded/index.js";
import type { TriggerDefinition } from "./events/index.js";
import { openFileStore, type FileStore } from "./files/index.js";
import { HandlerHooks, loadHandlerModule, type AppHandler } from "./handler/index.js";
import { createLogger, Metrics } from "./observability/index.js";
import { readTlsFiles, TlsFilesError } from "./server/index.js";
import { SERVICE_DESCRIPTORS } from "./services/index.js";
import { defineWorkflowType } from "./registry/index.js";
import {
  checkTemporal,
  createTemporalClient,
  installRuntime,
  TemporalEngine,
  waitForTemporal,
  type TemporalClient,
  type TemporalTarget,
} from "./temporal/index.js";
import { createWorker, loadActivities, runWorker, withSampleActivities, workflowsEntry, type Activities } from "./worker/index.js";

/** What the application's hooks and activities get: Flowgate's own connections and stores. */
export interface FlowgateContext {
  readonly config: Config;
  readonly logger: Logger;
  /** The @temporalio/client Client on Flowgate's connection. */
  readonly temporal: TemporalClient["client"];
  /** The configs ConfigService serves: read them in an activity, seed them at start-up. */
  readonly configs: ConfigStore;
  readonly files: FileStore;
}

/** The application's start-up and shutdown, run after Flowgate's own start and before its own stop. */
export interface Lifespan {
  startup?(context: FlowgateContext): void | Promise<void>;
  shutdown?(context: FlowgateContext): void | Promise<void>;
}

/** A workflow type the API may start: a name and a description, the rest optional (`defineWorkflowType`). */
export type WorkflowTypeInit = Parameters<typeof defineWorkflowType>[0];

export interface FlowgateOptions {
  /** The workflows module (path or file URL, `.ts` or `.js`), bundled for the worker. */
  readonly workflows?: string | URL | undefined;
  /** The activities, or a function of the context that makes them (to read configs, say). */
  readonly activities?: Activities | ((context: FlowgateContext) => Activities | Promise<Activities>) | undefined;
  /** The workflow types the API may start, beside the workflow-types file's (FLOWGATE_WORKFLOWS_FILE). */
  readonly workflowTypes?: readonly WorkflowTypeInit[] | undefined;
  /** TestAuth, FetchMetadata and PreflightCheck's hooks; FLOWGATE_HANDLER's module when absent. */
  readonly handler?: AppHandler | undefined;
  /** Event triggers, beside the file's. */
  readonly triggers?: readonly TriggerDefinition[] | undefined;
  /** Config maps (forms) GetConfigMap serves, beside the file's. */
  readonly configMaps?: Readonly<Record<string, JsonObject>> | undefined;
  readonly lifespan?: Lifespan | undefined;
  /** Where uploads go; FLOWGATE_FILES_URL's store (the data folder's `files/`, or a bucket) when absent. */
  readonly files?: FileStore | undefined;
  /** The configuration's variables; process.env when absent. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** The logger; one made from FLOWGATE_LOG_LEVEL and FLOWGATE_LOG_PRETTY when absent. */
  readonly logger?: Logger | undefined;
  /**
   * Where the worker runs: "inline" (the default), in this process with `activities`; "process", a child
   * process with FLOWGATE_WORKER_WORKFLOWS and FLOWGATE_WORKER_ACTIVITIES, as `npm start` runs it.
   */
  readonly worker?: "inline" | "process" | undefined;
}

export interface Flowgate {
  /** The configuration read from `env`, with this application's defaults applied. */
  readonly config: Config;
  readonly logger: Logger;
  /**
   * Starts what the app needs (Temporal or the check of the cluster, the config database, the worker, the
   * application's startup) and returns the app without listening: for tests, `app.inject` or `app.listen`.
   * When something fails, whatever was started is stopped again and the error is thrown.
   */
  build(): Promise<FastifyInstance>;
  /**
   * build(), then listens (FLOWGATE_HOST and FLOWGATE_PORT unless given) and owns the process: SIGINT,
   * SIGTERM and SIGHUP stop everything in order and exit, as does the loss of the embedded Temporal or
   * worker. Returns the URL.
   */
  listen(at?: { readonly host?: string; readonly port?: number }): Promise<string>;
  /** Stops everything started, newest first: the API drains, then the application, worker, stores, Temporal. */
  close(): Promise<void>;
}

export function createFlowgate(options: FlowgateOptions = {}): Flowgate {
  const env = options.env ?? process.env;
  const config = withAppDefaults(loadConfig(env), options, env);
  const log = options.logger ?? createLogger(config);
  for (const warning of config.warnings) log.warn(warning);

  const cleanups: Array<() => Promise<void>> = [];
  const signalHandlers: Array<[NodeJS.Signals, () => void]> = [];
  let built: Promise<FastifyInstance> | undefined;
  /** Who may call, once build() has read the auth settings. */
  let authenticator: Authenticator | undefined;
  let closing: Promise<void> | undefined;
  /** Called when a part Flowgate cannot run without exits; listen() makes it stop the process. */
  let onLost = (reason: string) => {
    log.fatal({ reason }, "a part of Flowgate stopped; stopping the rest");
    void flowgate.close();
  };

  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((err: unknown) => log.error({ err }, "error while shutting down"));
    }
  };

  const build = async (): Promise<FastifyInstance> => {
    // Everything that can be refused is checked before anything is started.
    authenticator = await openAuthenticator(config, declaredScopes(SERVICE_DESCRIPTORS));
    logAuth(log, authenticator, config);
    const tls = config.tls && { ...(await readTls(config.tls)), reload: { files: config.tls, intervalMs: config.tlsReloadIntervalMs } };
    const workflows = options.workflows instanceof URL ? fileURLToPath(options.workflows) : options.workflows ?? config.workerWorkflows;
    const inline = (options.worker ?? "inline") === "inline";
    if (config.startWorker) {
      if (!config.samples && workflows === undefined) {
        throw new ConfigError("FLOWGATE_START_WORKER is on but the worker has no workflows: set FLOWGATE_WORKER_WORKFLOWS, or FLOWGATE_SAMPLES=true");
      }
      await assertReadable(workflows, options.workflows === undefined ? "FLOWGATE_WORKER_WORKFLOWS" : "workflows");
      await assertReadable(config.workerActivities, "FLOWGATE_WORKER_ACTIVITIES");
      if (!inline && (options.workflows !== undefined || options.activities !== undefined)) {
        throw new ConfigError('worker: "process" runs the workflows and activities FLOWGATE_WORKER_* name; pass yours with the inline worker');
      }
    } else if (workflows !== undefined || config.workerActivities !== undefined || options.activities !== undefined) {
      log.warn("the workflows and activities are not run here: no worker runs in this process (FLOWGATE_START_WORKER=false)");
    }
    const handler = options.handler ?? (config.handlerModule === undefined ? undefined : await loadHandlerModule(config.handlerModule));
    if (handler !== undefined) log.info({ module: config.handlerModule, hooks: new HandlerHooks(handler).available() }, "application handler loaded");
    const declared = await loadDeclarations(config, {
      workflowTypes: (options.workflowTypes ?? []).map(defineWorkflowType),
      triggers: options.triggers ?? [],
      configMaps: options.configMaps ?? {},
    });
    log.info(
      {
        types: declared.registry.list().map((t) => t.name),
        triggers: declared.triggers.map((t) => t.id),
        file: config.workflowsFile,
        samples: config.samples,
      },
      `${declared.registry.list().length} workflow types and ${declared.triggers.length} event triggers registered`,
    );
    if (config.allowUnregistered) {
      log.warn("FLOWGATE_ALLOW_UNREGISTERED=true: any workflow type may be started; unregistered ones get no input check");
    }
    if (config.temporal !== undefined) {
      const check = await checkTemporal(config.temporal, 5000);
      if (!check.ok && check.kind === "misconfigured") throw new ConfigError(check.message);
      if (!check.ok) log.warn(`${check.message}; starting anyway, not ready until it answers`);
    }
    // The SDK's runtime leaves the signals to us, so the API drains before the worker stops.
    installRuntime(log);

    try {
      let target: TemporalTarget | undefined = config.temporal;
      const workerEnv: Record<string, string> = { FLOWGATE_SAMPLES: String(config.samples) };
      if (target === undefined) {
        const cli = await ensureTemporalCli({ override: config.temporalCli, toolsDir: path.join(config.dataDir, "tools"), log });
        const devServer = await startDevServer({
          cli,
          port: config.devServerPort,
          uiPort: config.devServerUiPort,
          dbFile: path.join(config.dataDir, "temporal.sqlite"),
          namespace: config.temporalNamespace,
          log,
        });
        cleanups.push(() => devServer.stop());
        void devServer.exited.then((code) => cleanups.length > 0 && onLost(`the Temporal dev server exited (code ${code})`));
        target = { address: devServer.address, namespace: config.temporalNamespace };
        await waitForTemporal(target, 60_000);
        if (devServer.uiUrl) log.info({ url: devServer.uiUrl }, "Temporal web UI");
        Object.assign(workerEnv, { FLOWGATE_TEMPORAL_ADDRESS: devServer.address, FLOWGATE_TEMPORAL_NAMESPACE: config.temporalNamespace });
      }

      // The config database first: a bad URL or a schema newer than this code stops start-up here.
      const database = await openDatabase({ url: config.databaseUrl, pgliteDir: path.join(config.dataDir, "pglite") });
      cleanups.push(() => database.close());
      log.info(
        { database: database.kind, at: database.location },
        database.kind === "pglite" ? "configs are stored in the embedded PGlite, opened on first use" : "configs are stored in PostgreSQL",
      );

      const temporal = createTemporalClient(target, log);
      cleanups.push(() => temporal.close());
      let files = options.files;
      if (files === undefined) {
        const opened = await openFileStore({ filesUrl: config.filesUrl, dataDir: config.dataDir, limits: { maxBytes: config.uploadMaxBytes, types: config.uploadTypes }, env });
        cleanups.push(() => opened.close());
        files = opened.store;
        log.info({ at: opened.location }, "uploaded files are stored here");
      }
      const context: FlowgateContext = { config, logger: log, temporal: temporal.client, configs: new ConfigStore(database), files };

      // The inline worker is made (its bundle built) now, but polls only once the application's startup
      // has run, and stops before its shutdown: the app's activities run between the two.
      let startWorker: (() => void) | undefined;
      if (config.startWorker && inline) {
        const activities = typeof options.activities === "function" ? await options.activities(context) : options.activities;
        const userActivities = activities ?? (config.workerActivities === undefined ? undefined : await loadActivities(config.workerActivities));
        const workflowsPath = await workflowsEntry({ samples: config.samples, userWorkflows: workflows, dir: path.join(config.dataDir, "worker") });
        const { worker, close: closeConnection } = await createWorker({
          ...target,
          taskQueue: config.taskQueue,
          workflowsPath,
          activities: withSampleActivities(config.samples, userActivities, options.activities === undefined ? undefined : "activities") ?? {},
          tracing: config.tracing,
        });
        cleanups.push(closeConnection);
        startWorker = () => {
          cleanups.push(runWorker(worker, "the worker", (reason) => cleanups.length > 0 && onLost(reason)));
          log.info({ taskQueue: config.taskQueue, workflows, activities: Object.keys(userActivities ?? {}) }, "worker polling in this process");
        };
      } else if (config.startWorker) {
        const worker = spawnWorkerProcess({ ...definedOnly(options.env), ...workerEnv }, log);
        cleanups.push(() => worker.stop());
        void worker.exited.then((code) => cleanups.length > 0 && onLost(`the worker process exited (code ${code})`));
      }

      const { lifespan } = options;
      if (lifespan?.startup !== undefined) await lifespan.startup(context);
      if (lifespan?.shutdown !== undefined) cleanups.push(async () => lifespan.shutdown?.(context));
      startWorker?.();

      // Completion callbacks: their deliveries run on Flowgate's own worker, in this process.
      const callbacks =
        config.callbackAllow.length === 0
          ? undefined
          : { allowlist: new CallbackAllowlist(config.callbackAllow), taskQueue: `${config.taskQueue}-callbacks`, attempts: config.callbackAttempts };
      if (callbacks !== undefined) {
        const deps = { engine: new TemporalEngine(temporal), allowlist: callbacks.allowlist, database, logger: log };
        const callbackWorker = startCallbackWorker(target, callbacks.taskQueue, deps, (reason) => cleanups.length > 0 && onLost(reason));
        cleanups.push(() => callbackWorker.close());
        log.info({ taskQueue: callbacks.taskQueue, origins: config.callbackAllow }, "completion callbacks on: deliveries run in this process");
      }

      const app = await createApp({
        config,
        logger: log,
        temporal,
        registry: declared.registry,
        triggers: declared.triggers,
        database,
        configMaps: declared.configMaps,
        handler,
        files: { store: files, maxBytes: config.uploadMaxBytes },
        callbacks,
        workerTaskQueue: config.startWorker ? config.taskQueue : undefined,
        auth: { authenticator, publicParts: new Set(config.authPublic) },
        metrics: new Metrics({ processMetrics: true }),
        corsOrigins: config.corsOrigins,
        tls,
      });
      cleanups.push(() => app.close());
      return app;
    } catch (err) {
      // Whatever was started before the failure is stopped, so nothing is left running.
      await close();
      throw err;
    }
  };

  const flowgate: Flowgate = {
    config,
    logger: log,
    build() {
      if (closing !== undefined) return Promise.reject(new Error("this Flowgate was closed: create another to start again"));
      built ??= build();
      return built;
    },
    async listen(at = {}) {
      const host = at.host ?? config.host;
      const port = at.port ?? config.port;
      if (port !== 0) await assertPortFree(host, port, "FLOWGATE_PORT", "Is Flowgate already running?");
      // Owning the process: a signal, or the loss of a part, stops everything in order and exits.
      const exit = (reason: string, code: number) => {
        log.info({ reason }, "shutting down");
        void flowgate.close().finally(() => {
          log.flush();
          process.exit(code);
        });
      };
      onLost = (reason) => exit(reason, 1);
      // SIGHUP too: closing the terminal stops Flowgate the same orderly way.
      for (const signal of SIGNALS) {
        const handler = () => {
          if (closing !== undefined) process.exit(1); // a second Ctrl-C does not wait
          exit(signal, 0);
        };
        process.on(signal, handler);
        signalHandlers.push([signal, handler]);
      }
      try {
        const app = await flowgate.build();
        if (closing !== undefined) throw new Error("Flowgate was stopped while it started");
        await app.listen({ host, port });
        const address = app.server.address() as { port: number };
        const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
        log.info(
          {
            temporal: config.temporal?.address ?? "embedded dev server",
            source: config.temporal?.addressSource ?? "embedded dev server",
            tls: config.temporal?.tls !== undefined,
            apiKey: config.temporal?.apiKey !== undefined,
            namespace: config.temporal?.namespace ?? config.temporalNamespace,
            taskQueue: config.taskQueue,
          },
          `Flowgate serves gRPC, gRPC-Web, Connect and REST on ${url}` + (config.tls ? " (and TLS on the same port)" : ""),
        );
        if (!isLoopback(host) && authenticator?.enabled !== true && config.tls === undefined) {
          log.warn(
            { host },
            `Flowgate listens on ${host}, beyond this machine, with authentication off and no TLS: every workflow, event and config it serves ` +
              "can be read and changed by anyone who reaches the port, in cleartext. Fine behind a proxy that terminates TLS and checks callers; otherwise set FLOWGATE_API_KEYS_FILE and FLOWGATE_TLS_CERT_FILE",
          );
        }
        return url;
      } catch (err) {
        // Nothing started stays running: the dev server, the worker, the stores.
        await flowgate.close();
        throw err;
      }
    },
    close() {
      closing ??= (async () => {
        await built?.catch(() => undefined);
        await close();
        for (const [signal, handler] of signalHandlers.splice(0)) process.off(signal, handler);
      })();
      return closing;
    },
  };
  return flowgate;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * An application that brings its own workflows runs them, on a cluster too, and leaves the samples out;
 * FLOWGATE_START_WORKER and FLOWGATE_SAMPLES, when set, still decide.
 */
function withAppDefaults(config: Config, options: FlowgateOptions, env: Readonly<Record<string, string | undefined>>): Config {
  if (options.workflows === undefined) return config;
  return {
    ...config,
    startWorker: env.FLOWGATE_START_WORKER === undefined ? true : config.startWorker,
    samples: env.FLOWGATE_SAMPLES === undefined ? false : config.samples,
  };
}

function definedOnly(env: Readonly<Record<string, string | undefined>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
}

const TLS_VARIABLES = {
  certFile: "FLOWGATE_TLS_CERT_FILE",
  keyFile: "FLOWGATE_TLS_KEY_FILE",
  clientCaFile: "FLOWGATE_TLS_CLIENT_CA_FILE",
  pair: "FLOWGATE_TLS_CERT_FILE and FLOWGATE_TLS_KEY_FILE",
} as const;

/** The TLS files, read and checked; a file that cannot be used fails start-up naming its variable. */
async function readTls(files: NonNullable<Config["tls"]>) {
  try {
    return await readTlsFiles(files);
  } catch (err) {
    if (err instanceof TlsFilesError) throw new ConfigError(`${TLS_VARIABLES[err.which]}: ${err.message}`);
    throw err;
  }
}

async function assertReadable(file: string | undefined, variable: string): Promise<void> {
  if (file === undefined) return;
  try {
    await access(file);
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read "${file}": ${(err as Error).message}`);
  }
}

/** Says, at start-up, who may call: loudly when anyone may. */
function logAuth(log: Logger, authenticator: Authenticator, config: Config): void {
  if (!authenticator.enabled) {
    log.warn(
      "authentication is OFF: anyone who can reach this port can start, signal and terminate workflows, publish events and change configs. " +
        "Set FLOWGATE_API_KEYS_FILE, FLOWGATE_JWT_JWKS_URL or FLOWGATE_TLS_CLIENT_CA_FILE to turn it on",
    );
    return;
  }
  log.info({ accepts: authenticator.describe(), public: config.authPublic }, "authentication is on");
  if ((config.jwtJwksUrl !== undefined || config.jwtKeysFile !== undefined) && config.jwtAudience === undefined) {
    log.warn("FLOWGATE_JWT_AUDIENCE is unset: a token the identity provider issued for any other service is accepted here too");
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
