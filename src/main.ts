// `npm start`: parse the configuration, bring up the embedded Temporal and a worker when no cluster is
// configured, build the app, listen, and stop everything cleanly on SIGINT / SIGTERM / SIGHUP.
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { createApp, loadDeclarations } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./database/index.js";
import { assertPortFree, ensureTemporalCli, PortTakenError, spawnWorkerProcess, startDevServer } from "./embedded/index.js";
import { createLogger } from "./observability/index.js";
import { TriggerRegistrationError } from "./events/index.js";
import { LocalFileStore } from "./files/index.js";
import { HandlerHooks, HandlerModuleError, loadHandlerModule } from "./handler/index.js";
import { RegistrationError } from "./registry/index.js";
import { checkTemporal, createTemporalClient, waitForTemporal, type TemporalTarget } from "./temporal/index.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  for (const warning of config.warnings) log.warn(warning);

  // Everything that can be refused is checked before anything is started.
  await assertPortFree(config.host, config.port, "FLOWGATE_PORT", "Is Flowgate already running?");
  const tls = config.tls && {
    cert: await readPem(config.tls.certFile, "FLOWGATE_TLS_CERT_FILE"),
    key: await readPem(config.tls.keyFile, "FLOWGATE_TLS_KEY_FILE"),
  };
  if (config.startWorker) {
    if (!config.samples && config.workerWorkflows === undefined) {
      throw new ConfigError("FLOWGATE_START_WORKER is on but the worker has no workflows: set FLOWGATE_WORKER_WORKFLOWS, or FLOWGATE_SAMPLES=true");
    }
    await assertReadable(config.workerWorkflows, "FLOWGATE_WORKER_WORKFLOWS");
    await assertReadable(config.workerActivities, "FLOWGATE_WORKER_ACTIVITIES");
  } else if (config.workerWorkflows !== undefined || config.workerActivities !== undefined) {
    log.warn("FLOWGATE_WORKER_WORKFLOWS and FLOWGATE_WORKER_ACTIVITIES are ignored: no embedded worker runs (FLOWGATE_START_WORKER=false)");
  }
  const handler = config.handlerModule === undefined ? undefined : await loadHandlerModule(config.handlerModule);
  if (handler !== undefined) log.info({ module: config.handlerModule, hooks: new HandlerHooks(handler).available() }, "application handler loaded");
  const { registry, triggers, configMaps } = await loadDeclarations(config);
  log.info(
    { types: registry.list().map((t) => t.name), triggers: triggers.map((t) => t.id), file: config.workflowsFile, samples: config.samples },
    `${registry.list().length} workflow types and ${triggers.length} event triggers registered`,
  );
  if (config.allowUnregistered) {
    log.warn("FLOWGATE_ALLOW_UNREGISTERED=true: any workflow type may be started; unregistered ones get no input check");
  }
  if (config.temporal !== undefined) {
    const check = await checkTemporal(config.temporal, 5000);
    if (!check.ok && check.kind === "misconfigured") throw new ConfigError(check.message);
    if (!check.ok) log.warn(`${check.message}; starting anyway, not ready until it answers`);
  }

  // Stopped in reverse order of start: the API drains before the worker and Temporal go away.
  const cleanups: Array<() => Promise<void>> = [];
  let stopping = false;
  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "shutting down");
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => log.error({ err }, "error while shutting down"));
    }
    log.flush();
    process.exit(exitCode);
  };
  // SIGHUP too: closing the terminal stops Flowgate the same orderly way.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1); // a second Ctrl-C does not wait
      void stop(signal, 0);
    });
  }

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
      void devServer.exited.then((code) => stop(`the Temporal dev server exited (code ${code})`, 1));
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

    if (config.startWorker) {
      const worker = spawnWorkerProcess(workerEnv, log);
      cleanups.push(() => worker.stop());
      void worker.exited.then((code) => stop(`the worker process exited (code ${code})`, 1));
    }

    const temporal = createTemporalClient(target, log);
    cleanups.push(() => temporal.close());
    const app = await createApp({
      config,
      logger: log,
      temporal,
      registry,
      triggers,
      database,
      configMaps,
      handler,
      files: {
        store: new LocalFileStore(path.join(config.dataDir, "files"), { maxBytes: config.uploadMaxBytes, types: config.uploadTypes }),
        maxBytes: config.uploadMaxBytes,
      },
      workerTaskQueue: config.startWorker ? config.taskQueue : undefined,
      tls,
    });
    cleanups.push(() => app.close());
    await app.listen({ host: config.host, port: config.port });
    log.info(
      {
        temporal: target.address,
        source: config.temporal?.addressSource ?? "embedded dev server",
        tls: config.temporal?.tls !== undefined,
        apiKey: config.temporal?.apiKey !== undefined,
        namespace: target.namespace,
        taskQueue: config.taskQueue,
      },
      `Flowgate serves gRPC, gRPC-Web, Connect and REST on http://${config.host}:${(app.server.address() as { port: number }).port}` +
        (tls ? " (and TLS on the same port)" : ""),
    );
  } catch (err) {
    // Whatever was started before the failure is stopped, so nothing is left running.
    log.fatal({ err }, "Flowgate failed to start");
    await stop("start-up failed", 1);
  }
}

async function readPem(file: string, variable: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read "${file}": ${(err as Error).message}`);
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

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof RegistrationError || err instanceof TriggerRegistrationError || err instanceof HandlerModuleError) {
    console.error(`flowgate: invalid configuration: ${err.message}`);
    process.exit(2);
  }
  if (err instanceof PortTakenError) {
    console.error(`flowgate: ${err.message}`);
    process.exit(1);
  }
  console.error("flowgate: failed to start:", err);
  process.exit(1);
});
