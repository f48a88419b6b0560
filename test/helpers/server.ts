// A real Flowgate app on 127.0.0.1 and a free port, against the run's Temporal dev server (or another).
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { inject } from "vitest";
import { createApp, type AppOptions } from "../../src/app.js";
import { Authenticator, declaredScopes, hashApiKey, loadApiKeys, PLATFORM_PARTS } from "../../src/auth/index.js";
import { SERVICE_DESCRIPTORS } from "../../src/services/index.js";
import { CallbackAllowlist, startCallbackWorker, type CallbackSettings } from "../../src/callbacks/index.js";
import { openDatabase, type Database } from "../../src/database/index.js";
import { LocalFileStore, type FileLimits, type FileStore } from "../../src/files/index.js";
import { WorkflowRegistry, type RegistryOptions, type WorkflowTypeDefinition } from "../../src/registry/index.js";
import { createTemporalClient, TemporalEngine } from "../../src/temporal/index.js";
import { TEST_NAMESPACE, TEST_TASK_QUEUE, TEST_WORKFLOWS } from "./constants.js";

export interface TestServer {
  /** Where the server's file store writes. */
  readonly filesDir: string;
  /** http://127.0.0.1:PORT (https:// with `tls`, which serves cleartext on the same port too) */
  readonly baseUrl: string;
  /** 127.0.0.1:PORT, for grpcurl */
  readonly hostPort: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  readonly config?: Partial<AppOptions["config"]>;
  /** The registered types; the samples and the test fixtures by default. */
  readonly workflowTypes?: readonly WorkflowTypeDefinition[];
  readonly registry?: RegistryOptions;
  /** Temporal's host:port; the run's dev server by default. */
  readonly temporalAddress?: string;
  readonly workerTaskQueue?: AppOptions["workerTaskQueue"];
  readonly triggers?: AppOptions["triggers"];
  readonly configMaps?: AppOptions["configMaps"];
  readonly handler?: AppOptions["handler"];
  /** Where the app logs; silent (or FLOWGATE_TEST_LOG_LEVEL) by default. */
  readonly logger?: AppOptions["logger"];
  /** Origins browsers may call from; CORS off by default. */
  readonly corsOrigins?: AppOptions["corsOrigins"];
  /** How much of a body answered before it was read is still drained (5 s and the body limit by default). */
  readonly unreadBody?: AppOptions["unreadBody"];
  /** How often the event-loop delay is sampled for load shedding (config.shedEventLoopDelayMs turns it on). */
  readonly loadSampleIntervalMs?: AppOptions["loadSampleIntervalMs"];
  /** Who may call what (an Authenticator and the public platform parts); authentication off by default. */
  readonly auth?: AppOptions["auth"];
  /** A certificate to serve TLS with (and a client CA, for client certificates); cleartext only by default. */
  readonly tls?: AppOptions["tls"];
  /** The config database; an in-memory PGlite of its own (closed with the server) by default. */
  readonly database?: Database;
  /** Upload limits of the server's own file store (a temporary folder, removed with the server). */
  readonly uploads?: Partial<FileLimits>;
  /** Another file store (a bucket's) in place of the temporary folder's, with its size limit. */
  readonly files?: { readonly store: FileStore; readonly maxBytes: number };
  /**
   * Completion callbacks on: the origins allowed, and a callback worker of the server's own (closed with it)
   * on `taskQueue` (a new one by default; a second server on the same queue takes over the deliveries).
   */
  readonly callbacks?: { readonly allow: readonly string[]; readonly taskQueue?: string } & Partial<Omit<CallbackSettings, "allowlist" | "taskQueue">>;
}

/** A file store in a new temporary folder: what UploadFile writes to in tests. */
export function testFiles(limits: Partial<FileLimits> = {}): { store: LocalFileStore; maxBytes: number; dir: string } {
  const dir = path.join(os.tmpdir(), `flowgate-files-${randomUUID()}`);
  const full: FileLimits = { maxBytes: 8 * 1024 * 1024, types: [], ...limits };
  return { store: new LocalFileStore(dir, full), maxBytes: full.maxBytes, dir };
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const temporal = createTemporalClient({ address: options.temporalAddress ?? inject("temporalAddress"), namespace: TEST_NAMESPACE });
  const ownDatabase = options.database === undefined ? await openDatabase({}) : undefined;
  const database = options.database ?? ownDatabase!;
  const local = testFiles(options.uploads);
  const files = options.files ?? local;
  const callbacks: CallbackSettings | undefined = options.callbacks && {
    attempts: 3,
    initialIntervalMs: 100,
    ...options.callbacks,
    allowlist: new CallbackAllowlist(options.callbacks.allow),
    taskQueue: options.callbacks.taskQueue ?? `callbacks-${randomUUID()}`,
  };
  const callbackWorker =
    callbacks &&
    startCallbackWorker(
      { address: options.temporalAddress ?? inject("temporalAddress"), namespace: TEST_NAMESPACE },
      callbacks.taskQueue,
      { engine: new TemporalEngine(temporal), allowlist: callbacks.allowlist, database, logger: pino({ level: "silent" }) },
      (reason) => console.error(reason),
    );
  const app = await createApp({
    config: { bodyLimitBytes: 64 * 1024, taskQueue: TEST_TASK_QUEUE, runTimeoutMs: 30_000, ...options.config },
    logger: options.logger ?? pino({ level: process.env.FLOWGATE_TEST_LOG_LEVEL ?? "silent" }),
    temporal,
    registry: new WorkflowRegistry(options.workflowTypes ?? TEST_WORKFLOWS, options.registry),
    workerTaskQueue: options.workerTaskQueue,
    triggers: options.triggers,
    configMaps: options.configMaps,
    handler: options.handler,
    auth: options.auth,
    tls: options.tls,
    corsOrigins: options.corsOrigins,
    unreadBody: options.unreadBody,
    loadSampleIntervalMs: options.loadSampleIntervalMs,
    database,
    files,
    callbacks,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as { port: number };
  return {
    filesDir: local.dir,
    baseUrl: `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    async close() {
      await app.close();
      await callbackWorker?.close();
      await temporal.close();
      await ownDatabase?.close();
      await rm(local.dir, { recursive: true, force: true });
    },
  };
}

/**
 * A test server with authentication on: `key` is an API key that may call everything (scope "*"); the
 * platform parts stay public. The keys file lives in a folder of its own, removed when the server closes.
 */
export async function startSecuredTestServer(key: string, options: Omit<TestServerOptions, "auth"> = {}): Promise<TestServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-keys-"));
  const keysFile = path.join(dir, "keys.yaml");
  await writeFile(keysFile, `keys:\n  - {name: tests, sha256: ${hashApiKey(key)}, scopes: ["*"]}\n`);
  const authenticator = new Authenticator({ apiKeys: await loadApiKeys(keysFile, declaredScopes(SERVICE_DESCRIPTORS)) });
  const server = await startTestServer({ ...options, auth: { authenticator, publicParts: new Set(PLATFORM_PARTS) } });
  return {
    ...server,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
