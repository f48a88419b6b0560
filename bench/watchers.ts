// `npm run bench:watch`: many clients watching workflow runs through one Flowgate process (WatchWorkflow),
// next to the same clients reading the runs' history from Temporal themselves.
//
// The issue's goal: 1,000 concurrent watchers against one Flowgate process under 300 MB of RSS, with the
// p95 delay from a workflow's progress report to a watcher receiving it under 100 ms on this machine.
//
// One run starts an in-memory Temporal dev server, then measures two scenarios, each on three paths:
//   scenarios  1 run with all the watchers; 50 runs with 20 watchers each (BENCH_WATCH_RUNS)
//   paths      Flowgate: a fresh Flowgate process as a user runs it (compiled, as `npm start` runs it), alone
//              on its core; the watchers are WatchWorkflow streams on connect-node (HTTP/2) in a load
//              process on the other core.
//              bare: the same watchers against bench/bare-watch.ts, a bare connect-node server that streams
//              each run's events from one shared history poll and does nothing else: the floor for any
//              Connect server on Node on this machine, run with the same Node flags.
//              direct: the watchers read history from Temporal themselves, each a loop of long polls
//              (getWorkflowExecutionHistory, waitNewEvent) on @temporalio/client: what an app does without
//              Flowgate. That load process does the gateway's work, so it runs on the gateway's core and
//              its memory and CPU are the row's (as bench/run.ts does with its direct clients).
// Each measure: the runs (the `report` sample, {steps, step_seconds}) are started on a task queue no worker
// polls yet, so they exist and wait; every watcher opens its stream and reads the run's first event; then a
// worker starts on that queue and the runs report progress while everyone watches. The load process notes
// when it reads each PROGRESS event: its delay is that time minus the event's time in Temporal (one machine,
// one clock). Every watcher must receive every PROGRESS event of its run exactly once, in order: the runs'
// histories are read afterwards and compared, and a miss fails the benchmark.
//
// The report prints a Markdown table and writes it, with every figure, to bench/results/<time>-watch.{md,json}.
//
//   npm run bench:watch
//   BENCH_WATCHERS=200 npm run bench:watch                                   # a quick look
//   BENCH_GATEWAY_CMD="node --cpu-prof --cpu-prof-dir=/tmp/prof dist/src/main.js" npm run bench:watch
//
// Settings (environment):
//   BENCH_GATEWAY_CMD         the command that runs Flowgate, split on spaces (default: the node command of
//                             `npm start`)
//   BENCH_WATCHERS            watchers per scenario (1000)
//   BENCH_BASELINE_WATCHERS   watchers per scenario on the direct path (BENCH_WATCHERS)
//   BENCH_WATCH_RUNS          runs of the second scenario; BENCH_WATCHERS must be a multiple of it (50)
//   BENCH_WATCH_STEPS, BENCH_WATCH_STEP_SECONDS   the report runs' input (20, 0.5): steps + 1 PROGRESS events
//   BENCH_WATCH_CONNECTIONS   HTTP/2 connections the watchers are spread over (10)
//   BENCH_WATCH_PROTOCOL      grpc or connect: how the watchers call WatchWorkflow (grpc)
//   BENCH_WATCH_ONLY          measure only the rows whose "scenario · path" contains this text, e.g.
//                             "1,000 watchers · Flowgate" while profiling (all)
//   BENCH_GATEWAY_CPUS, BENCH_LOAD_CPUS   taskset CPU lists (the last core; the others). Temporal, its worker
//                             and Flowgate's watchers share the load cores.
//   FLOWGATE_LOG_LEVEL        passed to Flowgate (its default, info, logs every request, as a user's does)
//   TEMPORAL_CLI              a Temporal CLI to use instead of the pinned one
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { Client, Connection } from "@temporalio/client";
import protos from "@temporalio/proto";
import { ensureTemporalCli, TEMPORAL_CLI_VERSION } from "../src/embedded/index.js";
import { PROGRESS_MEMO } from "../src/operations/index.js";
import { pinSelf, spawnPinned, type Child } from "./lib/processes.js";
import { commandLine, countCpus, defaultCpus, freePort, gatewayCommand, gitDescription, machineDescription, nodeFlags, setting } from "./lib/setup.js";
import { cpuTimeMs, rssBytes, watchPeakRss } from "./lib/procfs.js";
import { percentile } from "./lib/protocol.js";
import { startBareWatch, startGateway, startTemporal, startWorker, type TemporalServer } from "./lib/stack.js";
import type { WatchedRun, WatcherReport, WatchLoadEvent, WatchSource, WatchSpec } from "./lib/watch-protocol.js";

/** How Flowgate is started: as `npm start` runs it (from the repository root), compiled, Node flags included. */
const GATEWAY_CMD = gatewayCommand();

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.dirname(BENCH_DIR);
const LOAD_SCRIPT = path.join(BENCH_DIR, "watch-load.ts");

/** The issue's goal for Flowgate with 1,000 watchers. */
const GOAL = { rssBytes: 300 * 2 ** 20, p95Ms: 100 };

/** How long Flowgate keeps a run's events after its last watcher leaves (LINGER_MS in src/operations/watch.ts), plus a second. */
const AFTER_LINGER_MS = 6_000;

const PROTOCOLS = ["grpc", "connect"] as const;
const isProtocol = (text: string): text is (typeof PROTOCOLS)[number] => (PROTOCOLS as readonly string[]).includes(text);

/** The settings, read once; a bad one stops the run before anything starts, naming the variable. */
const SETTINGS = (() => {
  const cpus = defaultCpus();
  try {
    const watchers = Math.round(setting("BENCH_WATCHERS", 1000, 1));
    const baselineWatchers = Math.round(setting("BENCH_BASELINE_WATCHERS", watchers, 1));
    const runs = Math.round(setting("BENCH_WATCH_RUNS", 50, 1));
    for (const [name, count] of [
      ["BENCH_WATCHERS", watchers],
      ["BENCH_BASELINE_WATCHERS", baselineWatchers],
    ] as const) {
      if (count % runs !== 0) throw new Error(`${name} (${count}) must be a multiple of BENCH_WATCH_RUNS (${runs})`);
    }
    const protocol = process.env.BENCH_WATCH_PROTOCOL?.trim() || "grpc";
    if (!isProtocol(protocol)) throw new Error(`BENCH_WATCH_PROTOCOL must be ${PROTOCOLS.join(" or ")}, got "${protocol}"`);
    return {
      watchers,
      baselineWatchers,
      runs,
      steps: Math.round(setting("BENCH_WATCH_STEPS", 20, 1)),
      stepSeconds: setting("BENCH_WATCH_STEP_SECONDS", 0.5, 0),
      connections: Math.round(setting("BENCH_WATCH_CONNECTIONS", 10, 1)),
      protocol,
      gatewayCpus: process.env.BENCH_GATEWAY_CPUS?.trim() || cpus.gateway,
      loadCpus: process.env.BENCH_LOAD_CPUS?.trim() || cpus.load,
      gatewayLogLevel: process.env.FLOWGATE_LOG_LEVEL?.trim() || undefined,
      only: process.env.BENCH_WATCH_ONLY?.trim() || undefined,
    };
  } catch (err) {
    console.error(`bench:watch: ${(err as Error).message}`);
    process.exit(2);
  }
})();

const log = (line: string) => process.stderr.write(`${line}\n`);

type Path = "Flowgate" | "bare" | "direct";

/** One scenario on one path. */
interface Measure {
  readonly scenario: string;
  readonly path: Path;
  readonly runs: number;
  readonly watchersPerRun: number;
  /** The watchers ask for PROGRESS events only (WatchWorkflowRequest.types); not on the direct path. */
  readonly progressOnly?: boolean;
}

/** What one measure found. */
interface Row extends Measure {
  readonly watchers: number;
  /** Whose memory and CPU the row reports: Flowgate's, or the direct watchers' own process. */
  readonly measured: "gateway" | "load process";
  readonly delivery: Delivery;
  readonly delayMs: Percentiles;
  /** Per PROGRESS event, the delay of the first watcher to read it: the path's own latency, before fan-out queues. */
  readonly firstReceiptMs: Percentiles;
  /** The delays of each run's k-th progress report, over every run and watcher: a queue that grows shows here. */
  readonly byReport: readonly (Percentiles & { readonly report: number })[];
  readonly rss: { readonly idleBytes?: number; readonly peakBytes?: number; readonly afterBytes?: number };
  /** CPU time of the measured process while the watchers connected, and from then until every stream ended. */
  readonly cpuMs: { readonly connect: number; readonly window: number };
  /** Messages the watchers received in the window (Flowgate: WatchWorkflow events; direct: history events). */
  readonly messages: number;
  readonly cpuUsPerMessage: number;
  readonly temporalCpuMs: number;
  /** CPU time of the Flowgate watchers' load process in the window (the direct row's is its `cpuMs`). */
  readonly watcherProcessCpuMs?: number;
  readonly connectSeconds: number;
  readonly windowSeconds: number;
  /** From the worker polling to every stream's end: while the runs report. */
  readonly eventsSeconds: number;
  /** The worker's CPU time then. */
  readonly workerCpuMs: number;
  /**
   * How busy the load cores were then (Temporal, the worker, and Flowgate's watchers when they are there),
   * 0 to 1: near 1, delays are the load cores' queue as much as the path's.
   */
  readonly loadCoresBusy: number;
  readonly errorSamples: readonly string[];
}

interface Delivery {
  /** PROGRESS events each watcher should receive, summed over the watchers. */
  readonly expected: number;
  readonly received: number;
  /** Expected events a watcher never received. */
  readonly missing: number;
  /** Events received more than once, or not in the run's history. */
  readonly extra: number;
  /** Watchers whose stream failed or did not end with the run. */
  readonly failedWatchers: number;
  /** Watchers whose PROGRESS events were exactly their run's, each once, in order. */
  readonly exactWatchers: number;
  readonly expectedPerRun: number;
}

interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

function percentiles(values: readonly number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

/** A promise and its resolve, for a load process's events. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** `promise`, or a failure naming `what` when the child exits first. */
async function unlessExited<T>(child: Child, promise: Promise<T>, what: string): Promise<T> {
  const exited = child.exited.then((code) => {
    throw new Error(`${child.name} exited (${code}) before ${what}:\n${child.tail()}`);
  });
  return Promise.race([promise, exited]);
}

/** What a measure needs of the run around it. */
interface Context {
  readonly temporal: TemporalServer;
  readonly client: Client;
  readonly scratch: string;
  /** Children started and not yet stopped, for the runner's cleanup. */
  readonly started: Set<Child>;
}

/** The report runs a measure watches, started on `taskQueue` (no worker polls it yet). */
async function startRuns(client: Client, taskQueue: string, count: number): Promise<WatchedRun[]> {
  const input = { steps: SETTINGS.steps, step_seconds: SETTINGS.stepSeconds };
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const handle = await client.workflow.start("report", { taskQueue, workflowId: `${taskQueue}-${i}-${randomUUID()}`, args: [input] });
      return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    }),
  );
}

/** A run's PROGRESS events, by history event id, in order: what each of its watchers must have received. */
async function progressEventIds(client: Client, run: WatchedRun): Promise<number[]> {
  const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
  const modified = protos.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED;
  return (history.events ?? [])
    .filter((e) => e.eventType === modified && e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[PROGRESS_MEMO] != null)
    .map((e) => Number(e.eventId));
}

/** Compares what each watcher received with its run's history. */
function checkDelivery(reports: readonly WatcherReport[], expected: readonly (readonly number[])[]): Delivery & { samples: string[] } {
  let [total, received, missing, extra, failedWatchers, exactWatchers] = [0, 0, 0, 0, 0, 0];
  const samples = new Set<string>();
  for (const report of reports) {
    const want = expected[report.run]!;
    const got = report.progress.map(([id]) => id);
    total += want.length;
    received += got.length;
    const wanted = new Set(want);
    const seen = new Set<number>();
    for (const id of got) {
      if (!wanted.has(id) || seen.has(id)) extra++;
      seen.add(id);
    }
    missing += want.filter((id) => !seen.has(id)).length;
    if (!report.ended) {
      failedWatchers++;
      if (samples.size < 5) samples.add(report.error ?? "the stream did not end with the run");
    }
    if (got.length === want.length && got.every((id, k) => id === want[k])) exactWatchers++;
  }
  const perRun = expected.map((ids) => ids.length);
  return {
    expected: total,
    received,
    missing,
    extra,
    failedWatchers,
    exactWatchers,
    expectedPerRun: perRun.every((n) => n === perRun[0]) ? perRun[0]! : Number.NaN,
    samples: [...samples],
  };
}

/** One scenario on one path: see the top of this file. */
async function measure(ctx: Context, m: Measure, index: number): Promise<Row> {
  const taskQueue = `bench-watch-${index}`;
  const watchers = m.runs * m.watchersPerRun;
  const stop = async (child: Child | undefined) => {
    if (child === undefined || !ctx.started.delete(child)) return;
    await child.stop();
  };

  let gateway: { readonly child: Child; readonly baseUrl: string } | undefined;
  let worker: Child | undefined;
  let load: Child | undefined;
  try {
    let source: WatchSource;
    if (m.path === "Flowgate") {
      // A fresh process for each measure: its memory figures are this scenario's alone.
      gateway = await startGateway({
        command: GATEWAY_CMD,
        repoRoot: REPO_ROOT,
        temporal: ctx.temporal,
        port: await freePort(),
        taskQueue,
        dataDir: path.join(ctx.scratch, `flowgate-${index}`),
        logFile: path.join(ctx.scratch, `flowgate-${index}.log`),
        logLevel: SETTINGS.gatewayLogLevel,
        cpus: SETTINGS.gatewayCpus,
      });
      ctx.started.add(gateway.child);
      source = { kind: "flowgate", baseUrl: gateway.baseUrl, protocol: SETTINGS.protocol, progressOnly: m.progressOnly === true };
    } else if (m.path === "bare") {
      gateway = await startBareWatch(await freePort(), ctx.temporal, { benchDir: BENCH_DIR, cpus: SETTINGS.gatewayCpus, nodeFlags: nodeFlags(GATEWAY_CMD) });
      ctx.started.add(gateway.child);
      source = { kind: "flowgate", baseUrl: gateway.baseUrl, protocol: "grpc", progressOnly: m.progressOnly === true };
    } else {
      source = { kind: "temporal", address: ctx.temporal.address, namespace: "default" };
    }
    const runs = await startRuns(ctx.client, taskQueue, m.runs);
    const timeoutS = 120 + SETTINGS.steps * (SETTINGS.stepSeconds + 1) * 3;
    const spec: WatchSpec = { source, runs, watchersPerRun: m.watchersPerRun, connections: SETTINGS.connections, progressMemo: PROGRESS_MEMO, timeoutS };

    const idle = deferred<number>();
    const ready = deferred<number>();
    const done = deferred<{ seconds: number; watchers: readonly WatcherReport[] }>();
    // The direct watchers do the gateway's work: they get the gateway's core, and are the row's measured process.
    const cpus = m.path === "direct" ? SETTINGS.gatewayCpus : SETTINGS.loadCpus;
    const gatewayIdleRss = gateway === undefined ? undefined : rssBytes(gateway.child.pid);
    load = spawnPinned(`the watchers' load process (${m.scenario}, ${m.path})`, process.execPath, [...process.execArgv, LOAD_SCRIPT, JSON.stringify(spec)], {
      cpus,
      cwd: REPO_ROOT,
      onLine: (line) => {
        if (!line.startsWith("{")) return; // anything else it prints is kept for the error message
        const event = JSON.parse(line) as WatchLoadEvent;
        if (event.event === "idle") idle.resolve(event.rssBytes);
        else if (event.event === "ready") ready.resolve(event.seconds);
        else done.resolve(event);
      },
    });
    ctx.started.add(load);
    const limit = setTimeout(() => void load?.stop(1000), (timeoutS + 60) * 1000);
    try {
      const loadIdleRss = await unlessExited(load, idle.promise, "its clients were created");
      const loadPid = load.pid;
      const pid = gateway?.child.pid ?? loadPid;
      const peak = watchPeakRss(pid);
      const connectCpu0 = cpuTimeMs(pid);
      const connectSeconds = await unlessExited(load, ready.promise, "every watcher read its run's first event");
      /** CPU time so far of each process the row reads. */
      const snapshot = () => ({
        at: performance.now(),
        measured: cpuTimeMs(pid),
        temporal: cpuTimeMs(ctx.temporal.child.pid),
        load: cpuTimeMs(loadPid),
        worker: worker === undefined ? 0 : cpuTimeMs(worker.pid),
      });
      const before = snapshot();
      log(`  ${watchers} watchers connected in ${connectSeconds.toFixed(1)} s; starting the worker`);
      worker = await startWorker(REPO_ROOT, ctx.temporal, taskQueue, path.join(ctx.scratch, `worker-${index}`), SETTINGS.loadCpus);
      ctx.started.add(worker);
      const polling = snapshot();
      const result = await unlessExited(load, done.promise, "every stream ended");
      const after = snapshot();
      const eventsMs = after.at - polling.at;
      const loadCoresMs =
        after.temporal - polling.temporal + (after.worker - polling.worker) + (gateway === undefined ? 0 : after.load - polling.load);
      const peakBytes = peak.stop();
      await load.exited;
      ctx.started.delete(load);
      await stop(worker);

      let afterBytes: number | undefined;
      if (gateway !== undefined) {
        // After the runs' events have been let go (Flowgate keeps them a few seconds for reconnecting clients).
        await sleep(AFTER_LINGER_MS);
        afterBytes = rssBytes(gateway.child.pid);
      }
      const expected = await Promise.all(runs.map((run) => progressEventIds(ctx.client, run)));
      const delivery = checkDelivery(result.watchers, expected);
      const delays = result.watchers.flatMap((w) => w.progress.map(([, delay]) => delay));
      const byReport: number[][] = [];
      for (const w of result.watchers) w.progress.forEach(([, delay], k) => (byReport[k] ??= []).push(delay));
      const firstReceipt = new Map<string, number>();
      for (const w of result.watchers) {
        for (const [id, delay] of w.progress) {
          const key = `${w.run}:${id}`;
          firstReceipt.set(key, Math.min(delay, firstReceipt.get(key) ?? Number.POSITIVE_INFINITY));
        }
      }
      const messages = result.watchers.reduce((n, w) => n + w.messages, 0);
      const windowCpu = after.measured - before.measured;
      return {
        ...m,
        watchers,
        measured: gateway === undefined ? "load process" : "gateway",
        delivery,
        delayMs: percentiles(delays),
        firstReceiptMs: percentiles([...firstReceipt.values()]),
        byReport: byReport.map((values, k) => ({ report: k + 1, ...percentiles(values) })),
        rss: { idleBytes: gatewayIdleRss ?? loadIdleRss, peakBytes, afterBytes },
        cpuMs: { connect: before.measured - connectCpu0, window: windowCpu },
        messages,
        cpuUsPerMessage: (windowCpu * 1000) / messages,
        temporalCpuMs: after.temporal - before.temporal,
        watcherProcessCpuMs: gateway === undefined ? undefined : after.load - before.load,
        connectSeconds,
        windowSeconds: (after.at - before.at) / 1000,
        eventsSeconds: eventsMs / 1000,
        workerCpuMs: after.worker - polling.worker,
        loadCoresBusy: loadCoresMs / (eventsMs * countCpus(SETTINGS.loadCpus)),
        errorSamples: delivery.samples,
      };
    } finally {
      clearTimeout(limit);
    }
  } finally {
    await stop(load);
    await stop(worker);
    await stop(gateway?.child);
  }
}

const ms = (value: number) => (Number.isNaN(value) ? "–" : value < 10 ? value.toFixed(2) : value.toFixed(1));
const mb = (bytes: number | undefined) => (bytes === undefined ? "–" : (bytes / 2 ** 20).toFixed(0));
const thousands = (n: number) => n.toLocaleString("en-US");

function renderTable(rows: readonly Row[]): string {
  const header = [
    "scenario",
    "path",
    "PROGRESS received / expected",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "first receipt p50 · p95 ms",
    "RSS idle → peak → after MB",
    "CPU ms connect · window",
    "CPU µs/event sent",
    "Temporal CPU ms",
    "load cores busy",
    "failed streams",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`];
  for (const r of rows) {
    const d = r.delivery;
    const exact = d.missing === 0 && d.extra === 0 && d.exactWatchers === r.watchers ? "" : ` (${d.missing} missing, ${d.extra} extra)`;
    const cells = [
      r.scenario,
      r.path === "Flowgate" ? `Flowgate (${SETTINGS.protocol})` : r.path === "bare" ? "bare connect-node (grpc)" : "direct @temporalio/client",
      `${thousands(d.received)} / ${thousands(d.expected)}${exact}`,
      ms(r.delayMs.p50),
      ms(r.delayMs.p95),
      ms(r.delayMs.p99),
      ms(r.delayMs.max),
      `${ms(r.firstReceiptMs.p50)} · ${ms(r.firstReceiptMs.p95)}`,
      `${mb(r.rss.idleBytes)} → ${mb(r.rss.peakBytes)} → ${mb(r.rss.afterBytes)}`,
      `${r.cpuMs.connect.toFixed(0)} · ${r.cpuMs.window.toFixed(0)}`,
      r.cpuUsPerMessage.toFixed(1),
      r.temporalCpuMs.toFixed(0),
      `${(r.loadCoresBusy * 100).toFixed(0)}%`,
      d.failedWatchers === 0 ? "0" : `${d.failedWatchers} (${r.errorSamples[0] ?? ""})`,
    ];
    lines.push(`| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Whether each Flowgate row with the goal's 1,000 watchers meets it. */
function goalLines(rows: readonly Row[]): string[] {
  return rows
    .filter((r) => r.path === "Flowgate")
    .map((r) => {
      const misses = [
        (r.rss.peakBytes ?? 0) >= GOAL.rssBytes ? `peak RSS ${mb(r.rss.peakBytes)} MB ≥ 300` : "",
        !(r.delayMs.p95 < GOAL.p95Ms) ? `p95 ${ms(r.delayMs.p95)} ms ≥ 100` : "",
      ].filter(Boolean);
      const count = r.watchers === 1000 ? "" : ` (with ${r.watchers} watchers, not the goal's 1,000)`;
      return `- goal, ${r.scenario}${count}: ${misses.length === 0 ? "met" : `missed: ${misses.join(", ")}`}`;
    });
}

/** Per scenario, Flowgate against the bare server and the direct clients measured in the same run. */
function ratioLines(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const f of rows.filter((r) => r.path === "Flowgate")) {
    const against = rows.filter((r) => r.scenario === f.scenario && r.path !== "Flowgate");
    if (against.length === 0) continue;
    const x = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !(b > 0) ? "–" : `${(a / b).toFixed(2)}×`);
    const parts = against.map(
      (b) =>
        `${b.path === "bare" ? "bare connect-node" : "direct"}: CPU/event ${x(f.cpuUsPerMessage, b.cpuUsPerMessage)}, ` +
        `p95 ${x(f.delayMs.p95, b.delayMs.p95)}, peak RSS ${x(f.rss.peakBytes, b.rss.peakBytes)}`,
    );
    lines.push(`- Flowgate ÷ ${f.scenario}: ${parts.join("; ")}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const { gatewayCpus, loadCpus } = SETTINGS;
  if (gatewayCpus === undefined) log("warning: taskset is missing or there is one core: the gateway and the load generator share cores");
  pinSelf(loadCpus);

  const toolsDir = path.join(REPO_ROOT, ".flowgate", "tools");
  const cli = await ensureTemporalCli({ override: process.env.TEMPORAL_CLI?.trim() || undefined, toolsDir });
  const scratch = mkdtempSync(path.join(os.tmpdir(), "flowgate-bench-watch-"));
  const started = new Set<Child>();
  const stopAll = async () => {
    for (const child of [...started].reverse()) await child.stop().catch(() => undefined);
    started.clear();
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stopAll().then(() => process.exit(143)));

  let keepScratch = false;
  let connection: Connection | undefined;
  try {
    log(`starting Temporal (in memory); Flowgate: ${GATEWAY_CMD}; gateway cores ${gatewayCpus ?? "any"}, load cores ${loadCpus ?? "any"}`);
    const temporal = await startTemporal(cli, { grpc: await freePort(), http: await freePort() }, loadCpus);
    started.add(temporal.child);
    connection = await Connection.connect({ address: temporal.address });
    const ctx: Context = { temporal, client: new Client({ connection, namespace: "default" }), scratch, started };
    keepScratch = true; // until the run ends well, the gateways' logs are kept for a look

    const { watchers, baselineWatchers, runs } = SETTINGS;
    const scenarios = (count: number, p: Path): Measure[] => [
      { scenario: `1 run × ${thousands(count)} watchers`, path: p, runs: 1, watchersPerRun: count },
      { scenario: `${runs} runs × ${count / runs} watchers`, path: p, runs, watchersPerRun: count / runs },
    ];
    const [flowgate, bare, direct] = [scenarios(watchers, "Flowgate"), scenarios(watchers, "bare"), scenarios(baselineWatchers, "direct")];
    const progressOnly = (m: Measure): Measure => ({ ...m, scenario: `${m.scenario}, PROGRESS only`, progressOnly: true });
    // Each scenario on every path, one after the other, so a slow minute of the machine falls on all; then
    // watchers that ask for progress only (the direct path reads every event whatever it wants).
    const measures = [
      ...flowgate.flatMap((m, i) => [m, bare[i]!, direct[i]!]),
      ...flowgate.flatMap((m, i) => [progressOnly(m), progressOnly(bare[i]!)]),
    ].filter((m) => SETTINGS.only === undefined || `${m.scenario} · ${m.path}`.includes(SETTINGS.only));
    if (measures.length === 0) throw new Error(`BENCH_WATCH_ONLY="${SETTINGS.only}" matches no row`);
    const rows: Row[] = [];
    for (const [index, m] of measures.entries()) {
      log(`${m.scenario} · ${m.path}`);
      const row = await measure(ctx, m, index);
      rows.push(row);
      const d = row.delivery;
      log(
        `  ${d.received}/${d.expected} PROGRESS events, p50 ${ms(row.delayMs.p50)} ms, p95 ${ms(row.delayMs.p95)} ms, ` +
          `peak RSS ${mb(row.rss.peakBytes)} MB, CPU ${row.cpuMs.window.toFixed(0)} ms, ${d.failedWatchers} failed streams`,
      );
    }

    const git = gitDescription();
    const machine = machineDescription();
    const meta = {
      date: startedAt.toISOString(),
      minutes: Number(((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)),
      command: commandLine("bench:watch"),
      gatewayCommand: GATEWAY_CMD,
      git,
      machine,
      loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
      settings: SETTINGS,
      goal: GOAL,
      versions: { temporalCli: TEMPORAL_CLI_VERSION },
    };
    const perRun = rows[0]?.delivery.expectedPerRun;
    const markdown = [
      `## ${meta.date.slice(0, 16).replace("T", " ")} UTC, watch: ${thousands(watchers)} watchers, ${git ? `${git.commit}${git.dirty ? " (with uncommitted changes)" : ""}` : "no git"}`,
      "",
      `- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}; load average at the end ${meta.loadAverageAtEnd.join(" ")}`,
      `- command: \`${meta.command}\` (${meta.minutes} min); gateway: \`${GATEWAY_CMD}\`, a fresh process per row; gateway cores ${gatewayCpus ?? "any"}, load cores ${loadCpus ?? "any"}`,
      `- runs: \`report\` {steps: ${SETTINGS.steps}, step_seconds: ${SETTINGS.stepSeconds}}, ${perRun} PROGRESS events each; the watchers connect before the runs' worker starts`,
      `- Flowgate rows: WatchWorkflow over ${SETTINGS.protocol === "grpc" ? "gRPC" : "Connect"} (connect-node, h2c), the watchers spread over ${SETTINGS.connections} HTTP/2 connections, in a load process on the load cores; RSS and CPU are Flowgate's`,
      "- bare rows: the same watchers against bench/bare-watch.ts, a bare connect-node server that streams each run's events from one shared history poll and nothing else (no Fastify, interceptors, validation or resume), with Flowgate's Node flags: the floor for a Connect server on Node here",
      `- direct rows: per watcher, getWorkflowExecutionHistory long polls (waitNewEvent) on @temporalio/client over ${SETTINGS.connections} grpc-js connections, in one process on the gateway's core; RSS and CPU are that process's`,
      "- delay: the time the watchers' process reads a PROGRESS event minus the event's time in Temporal; first receipt: per event, its first watcher's delay",
      "- CPU: connect, while the watchers open their streams; window, from then until every stream ended (including the worker's start); per event sent: window CPU over the messages the watchers received (Flowgate: WatchWorkflow events; direct: history events)",
      "- load cores busy: from the worker polling until every stream ended, the CPU time of Temporal, the worker and (Flowgate rows) the watchers over that time on the load cores; near 100%, the delays include the load cores' own queue",
      "",
      renderTable(rows),
      "",
      ...goalLines(rows),
      ...ratioLines(rows),
      "",
    ].join("\n");
    console.log(`\n${markdown}`);

    const resultsDir = path.join(BENCH_DIR, "results");
    mkdirSync(resultsDir, { recursive: true });
    const stamp = meta.date.replace(/[:.]/g, "-");
    writeFileSync(path.join(resultsDir, `${stamp}-watch.json`), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
    writeFileSync(path.join(resultsDir, `${stamp}-watch.md`), markdown);
    log(`written: bench/results/${stamp}-watch.json and .md`);

    const broken = rows.filter((r) => r.delivery.missing > 0 || r.delivery.extra > 0 || r.delivery.exactWatchers !== r.watchers);
    if (broken.length > 0) {
      throw new Error(`not every watcher received every PROGRESS event exactly once, in order: ${broken.map((r) => `${r.scenario} · ${r.path}`).join("; ")}`);
    }
    keepScratch = false;
  } finally {
    await connection?.close().catch(() => undefined);
    await stopAll();
    if (keepScratch) log(`Flowgate's logs and the run's files are kept in ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:watch: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
