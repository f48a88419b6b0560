// `npm start`: parse the configuration, bring up the embedded Temporal and a worker when no Temporal is
// configured, build the app, listen, and stop everything cleanly on SIGINT / SIGTERM.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { ensureTemporalCli, spawnWorkerProcess, startDevServer } from "./embedded/index.js";
import { createLogger } from "./observability/index.js";
import { WorkflowRegistry } from "./registry/index.js";
import { SAMPLE_WORKFLOW_TYPES } from "./samples/index.js";
import { createTemporalClient, waitForTemporal } from "./temporal/index.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  // Everything that can be refused is checked before anything is started.
  const tls = config.tls && {
    cert: await readPem(config.tls.certFile, "FLOWGATE_TLS_CERT_FILE"),
    key: await readPem(config.tls.keyFile, "FLOWGATE_TLS_KEY_FILE"),
  };

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
    let address = config.temporalAddress;
    if (address === undefined) {
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
      address = devServer.address;
      await waitForTemporal({ address, namespace: config.temporalNamespace }, 60_000);
      if (devServer.uiUrl) log.info({ url: devServer.uiUrl }, "Temporal web UI");
    }

    if (config.startWorker) {
      const worker = spawnWorkerProcess({ FLOWGATE_TEMPORAL_ADDRESS: address }, log);
      cleanups.push(() => worker.stop());
      void worker.exited.then((code) => stop(`the worker process exited (code ${code})`, 1));
    }

    const temporal = createTemporalClient({ address, namespace: config.temporalNamespace });
    cleanups.push(() => temporal.close());
    const registry = new WorkflowRegistry(SAMPLE_WORKFLOW_TYPES);
    const app = await createApp({
      config,
      logger: log,
      temporal,
      registry,
      workerTaskQueue: config.startWorker ? config.taskQueue : undefined,
      tls,
    });
    cleanups.push(() => app.close());
    await app.listen({ host: config.host, port: config.port });
    log.info(
      { temporal: address, namespace: config.temporalNamespace, taskQueue: config.taskQueue },
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

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`flowgate: invalid configuration: ${err.message}`);
    process.exit(2);
  }
  console.error("flowgate: failed to start:", err);
  process.exit(1);
});
