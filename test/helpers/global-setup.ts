// Once per test run: a real Temporal dev server (in memory, on free ports), a real worker on its own task
// queue with the sample and fixture workflows (and the samples' activities), a real PostgreSQL server, and
// grpcurl. Tests get their
// addresses through inject().
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import type { TestProject } from "vitest/node";
import { ensureTemporalCli, startDevServer } from "../../src/embedded/index.js";
import { SAMPLE_ACTIVITIES } from "../../src/samples/index.js";
import { waitForTemporal } from "../../src/temporal/index.js";
import { createWorker, installWorkerLogging } from "../../src/worker/index.js";
import { TEST_NAMESPACE, TEST_TASK_QUEUE } from "./constants.js";
import { startPostgres } from "./postgres.js";
import { ensureGrpcurl, freePort, REPO_ROOT, TOOLS_DIR } from "./tools.js";

declare module "vitest" {
  export interface ProvidedContext {
    temporalAddress: string;
    grpcurl: string;
    /** A PostgreSQL server's URL; tests take a database of their own on it (freshDatabase). */
    postgresUrl: string;
  }
}

/** Compiles src/ to dist/ as `npm start` does, so process tests run what production runs. */
function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(REPO_ROOT, "tsconfig.build.json")], (err, stdout, stderr) =>
      err ? reject(new Error(`npm run build failed:\n${stdout}${stderr}`)) : resolve(),
    );
  });
}

export default async function setup(project: TestProject) {
  // Fixture workflows fail on purpose; the SDK logs each at warn. Errors are what a test run should show.
  const log = pino({ level: process.env.FLOWGATE_TEST_LOG_LEVEL ?? "error" });
  const prepared = await Promise.allSettled([
    ensureTemporalCli({ override: process.env.TEMPORAL_CLI || undefined, toolsDir: TOOLS_DIR, log }),
    ensureGrpcurl(),
    startPostgres(),
    build(),
  ]);
  const [cliResult, grpcurlResult, postgresResult] = prepared;
  const postgres = postgresResult.status === "fulfilled" ? postgresResult.value : undefined;
  const failed = prepared.find((r) => r.status === "rejected");
  if (failed !== undefined || postgres === undefined) {
    // Leave no PostgreSQL behind when another part of the setup failed.
    await postgres?.stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  const cli = (cliResult as PromiseFulfilledResult<string>).value;
  const grpcurl = (grpcurlResult as PromiseFulfilledResult<string>).value;
  const devServer = await startDevServer({
    cli,
    port: await freePort(),
    uiPort: 0,
    dbFile: undefined,
    namespace: TEST_NAMESPACE,
    log,
  }).catch(async (err: unknown) => {
    await postgres.stop();
    throw err;
  });
  let started;
  try {
    await waitForTemporal({ address: devServer.address, namespace: TEST_NAMESPACE }, 60_000);
    installWorkerLogging(log);
    started = await createWorker({
      address: devServer.address,
      namespace: TEST_NAMESPACE,
      taskQueue: TEST_TASK_QUEUE,
      workflowsPath: path.join(path.dirname(fileURLToPath(import.meta.url)), "workflows.ts"),
      activities: SAMPLE_ACTIVITIES,
    });
  } catch (err) {
    await devServer.stop();
    await postgres.stop();
    throw err;
  }
  const { worker, close } = started;
  // A worker that dies mid-run fails the tests that need it; say why here rather than as an unhandled rejection.
  let workerError: unknown;
  const running = worker.run().catch((err: unknown) => {
    workerError = err;
    console.error("the test worker stopped:", err);
  });

  project.provide("temporalAddress", devServer.address);
  project.provide("grpcurl", grpcurl);
  project.provide("postgresUrl", postgres.url);

  return async () => {
    try {
      if (workerError === undefined) worker.shutdown();
      await running;
      await close();
    } finally {
      // Whatever happened above, leave no server behind.
      await devServer.stop();
      await postgres.stop();
    }
  };
}
