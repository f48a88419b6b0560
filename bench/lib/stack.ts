// The processes a benchmark run starts before it measures anything: an in-memory Temporal dev server with
// its HTTP API on, a worker for the run-and-wait scenario, Flowgate as a user runs it, and the bare servers
// it is compared with. Each is its own process, pinned to its cores.
import { openSync, closeSync } from "node:fs";
import http2 from "node:http2";
import path from "node:path";
import { spawnPinned, waitUntil, type Child, type Cpus } from "./processes.js";
import { rssBytes } from "./procfs.js";

/** A started server: its process, where it answers, and its memory once ready, before any load. */
export interface Server {
  readonly child: Child;
  readonly idleRssBytes: number | undefined;
}

async function answers(url: string, init?: RequestInit): Promise<boolean> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

/** Whether an HTTP/2 cleartext server accepts a connection (for servers with no HTTP/1.1 route to ask). */
function acceptsH2c(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${address}`);
    session.once("connect", () => {
      session.close();
      resolve(true);
    });
    session.once("error", () => resolve(false));
  });
}

export interface TemporalServer extends Server {
  /** host:port of the gRPC frontend. */
  readonly address: string;
  /** http://host:port of Temporal's own HTTP API (the gRPC-gateway beside the frontend). */
  readonly httpUrl: string;
}

/**
 * `temporal server start-dev` in memory (no --db-filename), headless, with its HTTP API on a known port.
 * Started here rather than by src/embedded's startDevServer, which has no HTTP port or CPU pinning to set.
 */
export async function startTemporal(cli: string, ports: { grpc: number; http: number }, cpus: Cpus): Promise<TemporalServer> {
  const host = "127.0.0.1";
  const args = ["server", "start-dev", "--ip", host, "--port", String(ports.grpc), "--http-port", String(ports.http), "--headless"];
  args.push("--namespace", "default", "--log-level", "warn");
  const child = spawnPinned("the Temporal dev server", cli, args, { cpus });
  const httpUrl = `http://${host}:${ports.http}`;
  await waitUntil(child, "its HTTP API answering for the default namespace", () => answers(`${httpUrl}/api/v1/namespaces/default`));
  return { child, address: `${host}:${ports.grpc}`, httpUrl, idleRssBytes: rssBytes(child.pid) };
}

/** The environment of this process without anything that would point a Flowgate process elsewhere. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(FLOWGATE_|TEMPORAL_|BENCH_)/.test(name)) delete env[name];
  }
  return { ...env, ...extra };
}

/**
 * Flowgate's worker process (src/worker/main.ts) with the samples, polling `taskQueue`: what runs the
 * workflows of the run-and-wait scenario. Ready once Temporal lists it as a poller of the queue.
 */
export async function startWorker(repoRoot: string, temporal: TemporalServer, taskQueue: string, dataDir: string, cpus: Cpus): Promise<Child> {
  const env = cleanEnv({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: "default",
    FLOWGATE_TASK_QUEUE: taskQueue,
    FLOWGATE_SAMPLES: "true",
    FLOWGATE_DATA_DIR: dataDir,
    FLOWGATE_LOG_LEVEL: "warn",
    FLOWGATE_LOG_PRETTY: "false",
  });
  const child = spawnPinned("the worker", process.execPath, [...process.execArgv, path.join(repoRoot, "src/worker/main.ts")], { cpus, env, cwd: repoRoot });
  const queue = `${temporal.httpUrl}/api/v1/namespaces/default/task-queues/${taskQueue}?taskQueueType=TASK_QUEUE_TYPE_WORKFLOW`;
  await waitUntil(child, `a poller on task queue "${taskQueue}"`, async () => {
    const res = await fetch(queue, { signal: AbortSignal.timeout(2000) });
    return (((await res.json()) as { pollers?: unknown[] }).pollers?.length ?? 0) > 0;
  });
  return child;
}

export interface GatewayOptions {
  /** The command line that runs the gateway, split on spaces (GATEWAY_CMD). */
  readonly command: string;
  readonly repoRoot: string;
  readonly temporal: TemporalServer;
  readonly port: number;
  /** The task queue of types that name none: the one the worker polls. */
  readonly taskQueue: string;
  readonly dataDir: string;
  /** Where its stdout (pino's JSON lines) is written. */
  readonly logFile: string;
  /** FLOWGATE_LOG_LEVEL, when the run was given one; Flowgate's default (info) otherwise. */
  readonly logLevel: string | undefined;
  readonly cpus: Cpus;
}

/**
 * Flowgate, as a user runs it against an existing Temporal: its own process, configured by environment
 * only, the samples registered (so `greet` is accepted and its input checked against its schema), no
 * embedded worker. Ready once GET /health/ready says Temporal answers.
 */
export async function startGateway(options: GatewayOptions): Promise<Server & { readonly baseUrl: string; readonly address: string }> {
  const [command, ...args] = options.command.trim().split(/\s+/);
  const env = cleanEnv({
    TEMPORAL_ADDRESS: options.temporal.address,
    TEMPORAL_NAMESPACE: "default",
    FLOWGATE_HOST: "127.0.0.1",
    FLOWGATE_PORT: String(options.port),
    FLOWGATE_TASK_QUEUE: options.taskQueue,
    FLOWGATE_SAMPLES: "true",
    FLOWGATE_START_WORKER: "false",
    // The large-body scenario starts a type no one registered (no schema: any input), on a queue no one polls.
    FLOWGATE_ALLOW_UNREGISTERED: "true",
    FLOWGATE_DATA_DIR: options.dataDir,
    FLOWGATE_LOG_PRETTY: "false",
    ...(options.logLevel === undefined ? {} : { FLOWGATE_LOG_LEVEL: options.logLevel }),
  });
  // Logs go to a file, as they would to a container's log: a pipe the runner had to drain would make the
  // gateway wait on the runner.
  const log = openSync(options.logFile, "w");
  const child = spawnPinned("Flowgate", command!, args, { cpus: options.cpus, env, cwd: options.repoRoot, stdout: log });
  closeSync(log);
  const baseUrl = `http://127.0.0.1:${options.port}`;
  await waitUntil(child, `GET /health/ready answering 200 (its log: ${options.logFile})`, () => answers(`${baseUrl}/health/ready`));
  return { child, baseUrl, address: `127.0.0.1:${options.port}`, idleRssBytes: rssBytes(child.pid) };
}

/**
 * A bench/*.ts server that prints "ready" once it listens, run with `nodeFlags` (the gateway command's, so
 * a comparison runs on the same V8 settings as Flowgate).
 */
async function startBareServer(
  name: string,
  script: string,
  args: readonly string[],
  options: BareOptions,
  ready: () => Promise<boolean>,
): Promise<Server> {
  let said = false;
  const child = spawnPinned(name, process.execPath, [...process.execArgv, ...options.nodeFlags, script, ...args], {
    cpus: options.cpus,
    onLine: (line) => (said ||= line === "ready"),
  });
  await waitUntil(child, "listening", async () => said && (await ready()));
  return { child, idleRssBytes: rssBytes(child.pid) };
}

export interface BareOptions {
  readonly benchDir: string;
  readonly cpus: Cpus;
  /** Node flags for the server (the gateway command's: see nodeFlags in setup.ts). */
  readonly nodeFlags: readonly string[];
}

export async function startBareFastify(port: number, options: BareOptions): Promise<Server & { readonly baseUrl: string }> {
  const baseUrl = `http://127.0.0.1:${port}`;
  const server = await startBareServer("bare Fastify", path.join(options.benchDir, "bare-fastify.ts"), [String(port)], options, () =>
    answers(`${baseUrl}/health/live`),
  );
  return { ...server, baseUrl };
}

export async function startBareConnect(
  ports: { h2c: number; http1: number },
  options: BareOptions,
): Promise<Server & { readonly h2cAddress: string; readonly http1Url: string }> {
  const h2cAddress = `127.0.0.1:${ports.h2c}`;
  const http1Url = `http://127.0.0.1:${ports.http1}`;
  const server = await startBareServer(
    "bare connect-node",
    path.join(options.benchDir, "bare-connect.ts"),
    [String(ports.h2c), String(ports.http1)],
    options,
    () => acceptsH2c(h2cAddress),
  );
  return { ...server, h2cAddress, http1Url };
}

/** bench/bare-watch.ts: WatchWorkflow alone on a bare connect-node server, reading `temporal`'s histories. */
export async function startBareWatch(port: number, temporal: TemporalServer, options: BareOptions): Promise<Server & { readonly baseUrl: string }> {
  const address = `127.0.0.1:${port}`;
  const server = await startBareServer("bare connect-node watch", path.join(options.benchDir, "bare-watch.ts"), [String(port), temporal.address], options, () =>
    acceptsH2c(address),
  );
  return { ...server, baseUrl: `http://${address}` };
}
