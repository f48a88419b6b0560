// `npm run bench`: what a call through Flowgate costs, next to what the same call costs without it.
//
// One run starts its own stack (an in-memory Temporal dev server with its HTTP API, a worker, Flowgate as a
// user runs it, a bare Fastify route and a bare connect-node server), then measures each scenario (start,
// run-and-wait, status, health, a start with a large body) on each of its targets (a direct
// @temporalio/client, a direct client on NativeConnection, Temporal's own HTTP API, Flowgate on REST,
// Connect JSON and gRPC, the bare servers), in
// rounds, the targets in turn, so a slow minute of the machine falls on all of them. Each window: a warm-up
// that is not counted, then fixed callers for a fixed time. The gateway and the load generator run on
// separate cores (taskset); the gateway's CPU time and memory are read from /proc around each window.
// The report takes each target's median round, with ratios to the scenario's baseline; it prints Markdown
// tables and writes them, with every window's figures, to bench/results/<time>.{md,json}.
//
//   npm run bench
//   BENCH_DURATION_S=10 BENCH_ROUNDS=5 npm run bench        # longer, steadier
//   BENCH_SCENARIOS=health,start BENCH_ROUNDS=1 npm run bench  # a quick look
//
// Settings (environment):
//   BENCH_GATEWAY_CMD   the command that runs Flowgate, split on spaces (default: the node command `npm start` runs)
//   BENCH_DURATION_S    measured seconds per window (5)
//   BENCH_WARMUP_S      warm-up seconds before a target's windows, not counted (1)
//   BENCH_ROUNDS        rounds; the report shows each target's median round (3)
//   BENCH_CONCURRENCY   callers in flight (16); `start` also runs a 1-caller pass for the bare latency
//   BENCH_SCENARIOS     a comma-separated subset of start,run,status,health,large (all)
//   BENCH_GATEWAY_CPUS, BENCH_LOAD_CPUS   taskset CPU lists (the last core; the others). Temporal and its
//                       worker share the load generator's cores, so the gateway has its core to itself.
//   FLOWGATE_LOG_LEVEL  passed to Flowgate (its default, info, logs every request, as a user's does)
//   TEMPORAL_CLI        a Temporal CLI to use instead of the pinned one
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureTemporalCli, TEMPORAL_CLI_VERSION } from "../src/embedded/index.js";
import { ensureGhz, GHZ_VERSION, runGhz } from "./lib/ghz.js";
import { pinSelf, spawnPinned, type Child } from "./lib/processes.js";
import { commandLine, countCpus, defaultCpus, freePort, gatewayCommand, gitDescription, machineDescription, nodeFlags, setting } from "./lib/setup.js";
import { cpuTimeMs, rssBytes, watchPeakRss } from "./lib/procfs.js";
import type { LoadEvent, LoadSpec } from "./lib/protocol.js";
import { renderTable, tabulate, type Measurement } from "./lib/report.js";
import { buildScenarios, RUN_QUEUE, SCENARIO_IDS, type Scenario, type Target } from "./lib/scenarios.js";
import { startBareConnect, startBareFastify, startGateway, startTemporal, startWorker } from "./lib/stack.js";

/** How Flowgate is started: as `npm start` runs it (from the repository root), compiled, Node flags included. */
const GATEWAY_CMD = gatewayCommand();

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.dirname(BENCH_DIR);
const LOAD_SCRIPT = path.join(BENCH_DIR, "load.ts");

/** BENCH_SCENARIOS: a comma-separated subset of the scenarios; undefined for all of them. */
function scenarioList(text: string | undefined): readonly string[] | undefined {
  const ids = text?.split(",").map((s) => s.trim()).filter(Boolean);
  if (ids === undefined || ids.length === 0) return undefined;
  const unknown = ids.filter((id) => !(SCENARIO_IDS as readonly string[]).includes(id));
  if (unknown.length > 0) throw new Error(`BENCH_SCENARIOS: no scenario ${unknown.join(", ")} (there are ${SCENARIO_IDS.join(", ")})`);
  return ids;
}

/** The settings, read once; a bad one stops the run before anything starts, naming the variable. */
const SETTINGS = (() => {
  const cpus = defaultCpus();
  try {
    return {
      durationS: setting("BENCH_DURATION_S", 5, 1),
      warmupS: setting("BENCH_WARMUP_S", 1, 0),
      rounds: Math.round(setting("BENCH_ROUNDS", 3, 1)),
      concurrency: Math.round(setting("BENCH_CONCURRENCY", 16, 1)),
      scenarios: scenarioList(process.env.BENCH_SCENARIOS),
      gatewayCpus: process.env.BENCH_GATEWAY_CPUS?.trim() || cpus.gateway,
      loadCpus: process.env.BENCH_LOAD_CPUS?.trim() || cpus.load,
      gatewayLogLevel: process.env.FLOWGATE_LOG_LEVEL?.trim() || undefined,
    };
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(2);
  }
})();

const log = (line: string) => process.stderr.write(`${line}\n`);

/** What measuring a target needs besides the target. */
interface Run {
  readonly ghz: string;
  /** The run's scratch folder: the load processes' specs are written there. */
  readonly scratch: string;
  readonly temporalPid: number;
  readonly temporalAddress: string;
}

/** CPU time of the gateway and of Temporal, and the gateway's peak memory, over one window. */
function startMeter(gatewayPid: number | undefined, temporalPid: number) {
  const gatewayCpu0 = gatewayPid === undefined ? undefined : cpuTimeMs(gatewayPid);
  const temporalCpu0 = cpuTimeMs(temporalPid);
  const peak = gatewayPid === undefined ? undefined : watchPeakRss(gatewayPid);
  return () => ({
    gatewayCpuMs: gatewayPid === undefined ? undefined : cpuTimeMs(gatewayPid) - gatewayCpu0!,
    temporalCpuMs: cpuTimeMs(temporalPid) - temporalCpu0,
    rssPeakBytes: peak?.stop(),
  });
}

/** The process whose CPU time and memory count as the target's gateway's, when its load process is `loadPid`. */
function gatewayPid(target: Target, loadPid: number): number | undefined {
  switch (target.gateway.kind) {
    case "server":
      return target.gateway.server.child.pid;
    case "load process":
      return loadPid;
    case "none":
      return undefined;
  }
}

/** A target loaded by bench/load.ts (autocannon, or a direct client that is its own gateway). */
async function measureWithLoadProcess(run: Run, scenario: Scenario, target: Target, round: number): Promise<Measurement[]> {
  const { load } = target;
  if (load.kind === "grpc") throw new Error("gRPC targets are loaded by ghz");
  const spec: LoadSpec = {
    driver:
      load.kind === "http"
        ? { kind: "http", baseUrl: load.baseUrl, steps: load.steps }
        : { kind: "client", connection: load.connection, address: run.temporalAddress, namespace: "default", operation: load.operation },
    warmupS: SETTINGS.warmupS,
    durationS: SETTINGS.durationS,
    passes: scenario.passes,
  };
  const measurements: Measurement[] = [];
  let idleRss: number | undefined;
  let stopMeter: ReturnType<typeof startMeter> | undefined;
  // A direct client does the gateway's work, so it runs where the gateway would: on the gateway's cores.
  const cpus = load.kind === "client" ? SETTINGS.gatewayCpus : SETTINGS.loadCpus;
  // In a file: a large body does not fit in one command-line argument (128 KiB on Linux).
  const specFile = path.join(run.scratch, `load-${randomUUID()}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const child: Child = spawnPinned(`the load process of ${target.name}`, process.execPath, [...process.execArgv, LOAD_SCRIPT, specFile], {
    cpus,
    cwd: REPO_ROOT,
    onLine: (line) => {
      if (!line.startsWith("{")) return; // anything else it prints is kept for the error message
      const event = JSON.parse(line) as LoadEvent;
      switch (event.event) {
        case "ready":
          // A server's idle memory was read when it started; a client process's is read now, before its load.
          idleRss = target.gateway.kind === "server" ? target.gateway.server.idleRssBytes : target.gateway.kind === "load process" ? rssBytes(child.pid) : undefined;
          break;
        case "measure":
          stopMeter = startMeter(gatewayPid(target, child.pid), run.temporalPid);
          break;
        case "done":
          measurements.push({
            scenario: scenario.id,
            target: target.name,
            concurrency: scenario.passes[event.pass]!,
            round,
            result: event.result,
            rssIdleBytes: idleRss,
            ...stopMeter!(),
          });
          break;
      }
    },
  });
  // A load process that hangs (a server that stopped answering) is stopped, not waited for.
  const limitS = SETTINGS.warmupS + scenario.passes.length * SETTINGS.durationS + 120;
  const timer = setTimeout(() => void child.stop(1000), limitS * 1000);
  const code = await child.exited;
  clearTimeout(timer);
  if (code !== 0) {
    const failure = `the load process exited with ${code}:\n${child.tail()}`;
    for (const concurrency of scenario.passes.slice(measurements.length)) {
      measurements.push({ scenario: scenario.id, target: target.name, concurrency, round, failure });
    }
  }
  return measurements;
}

/** A gRPC target, loaded by ghz: a warm-up run, then one run per pass, each between two readings. */
async function measureWithGhz(run: Run, scenario: Scenario, target: Target, round: number): Promise<Measurement[]> {
  if (target.load.kind !== "grpc" || target.gateway.kind !== "server") throw new Error(`${target.name}: ghz loads gRPC servers only`);
  const { call } = target.load;
  const server = target.gateway.server;
  const options = (seconds: number, concurrency: number) => ({ seconds, concurrency, cpus: SETTINGS.loadCpus, cpuCount: countCpus(SETTINGS.loadCpus) });
  const measurements: Measurement[] = [];
  try {
    if (SETTINGS.warmupS > 0) await runGhz(run.ghz, call, options(SETTINGS.warmupS, scenario.passes[0]!));
    for (const concurrency of scenario.passes) {
      const stopMeter = startMeter(server.child.pid, run.temporalPid);
      const result = await runGhz(run.ghz, call, options(SETTINGS.durationS, concurrency));
      measurements.push({ scenario: scenario.id, target: target.name, concurrency, round, result, rssIdleBytes: server.idleRssBytes, ...stopMeter() });
    }
  } catch (err) {
    for (const concurrency of scenario.passes.slice(measurements.length)) {
      measurements.push({ scenario: scenario.id, target: target.name, concurrency, round, failure: (err as Error).message });
    }
  }
  return measurements;
}

/** One call through every target before anything is measured, so a misconfigured target fails in seconds. */
async function probe(run: Run, target: Target): Promise<void> {
  const { load } = target;
  switch (load.kind) {
    case "http": {
      const id = randomUUID();
      let body = "";
      for (const step of load.steps) {
        const res = await fetch(`${load.baseUrl}${step.path.replaceAll("{id}", id)}`, {
          method: step.method,
          headers: { "content-type": "application/json", ...step.headers },
          body: step.body?.replaceAll("{id}", id),
          signal: AbortSignal.timeout(30_000),
        });
        body = await res.text();
        if (!res.ok) throw new Error(`${target.name}: ${step.method} ${step.path} answered ${res.status}: ${body}`);
      }
      if (!load.expect.test(body)) throw new Error(`${target.name}: expected ${load.expect} in ${body}`);
      return;
    }
    case "grpc": {
      const result = await runGhz(run.ghz, load.call, { seconds: 1, concurrency: 1, cpus: SETTINGS.loadCpus, cpuCount: 1 });
      if (result.calls === 0 || result.errors > 0) throw new Error(`${target.name}: ${result.calls} calls, errors: ${result.errorSamples.join("; ")}`);
      return;
    }
    case "client":
      return; // the load process makes one checked call before it says it is ready
  }
}

/** A workflow that has completed, for the status scenario: started and awaited through Temporal's HTTP API. */
async function completedWorkflow(temporalHttpUrl: string): Promise<string> {
  const id = `bench-status-${randomUUID()}`;
  const url = `${temporalHttpUrl}/api/v1/namespaces/default/workflows/${id}`;
  const start = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ workflowType: { name: "greet" }, taskQueue: { name: RUN_QUEUE }, input: [{ name: "Ada" }] }),
  });
  if (!start.ok) throw new Error(`could not start the status scenario's workflow: ${start.status} ${await start.text()}`);
  const closed = await fetch(`${url}/history?waitNewEvent=true&historyEventFilterType=HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT`, {
    signal: AbortSignal.timeout(60_000),
  });
  const history = await closed.text();
  if (!history.includes("EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED")) throw new Error(`the status scenario's workflow did not complete: ${history}`);
  return id;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const { gatewayCpus, loadCpus } = SETTINGS;
  if (gatewayCpus === undefined) log("warning: taskset is missing or there is one core: the gateway and the load generator share cores");
  // The runner itself (sampling /proc, reading results) keeps off the gateway's core too.
  pinSelf(loadCpus);

  const toolsDir = path.join(REPO_ROOT, ".flowgate", "tools");
  const [cli, ghz] = await Promise.all([ensureTemporalCli({ override: process.env.TEMPORAL_CLI?.trim() || undefined, toolsDir }), ensureGhz(toolsDir)]);
  const scratch = mkdtempSync(path.join(os.tmpdir(), "flowgate-bench-"));
  const started: Child[] = [];
  const stopAll = async () => {
    for (const child of started.reverse()) await child.stop().catch(() => undefined);
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stopAll().then(() => process.exit(143)));

  let keepScratch = false;
  try {
    log(`starting Temporal (in memory), the worker, Flowgate (${GATEWAY_CMD}) and the bare servers; gateway cores ${gatewayCpus ?? "any"}, load cores ${loadCpus ?? "any"}`);
    const temporal = await startTemporal(cli, { grpc: await freePort(), http: await freePort() }, loadCpus);
    started.push(temporal.child);
    started.push(await startWorker(REPO_ROOT, temporal, RUN_QUEUE, path.join(scratch, "worker"), loadCpus));
    const gatewayLog = path.join(scratch, "flowgate.log");
    keepScratch = true; // until the run ends well, the gateway's log is kept for a look
    const flowgate = await startGateway({
      command: GATEWAY_CMD,
      repoRoot: REPO_ROOT,
      temporal,
      port: await freePort(),
      taskQueue: RUN_QUEUE,
      dataDir: path.join(scratch, "flowgate"),
      logFile: gatewayLog,
      logLevel: SETTINGS.gatewayLogLevel,
      cpus: gatewayCpus,
    });
    started.push(flowgate.child);
    const bare = { benchDir: BENCH_DIR, cpus: gatewayCpus, nodeFlags: nodeFlags(GATEWAY_CMD) };
    const fastify = await startBareFastify(await freePort(), bare);
    started.push(fastify.child);
    const connect = await startBareConnect({ h2c: await freePort(), http1: await freePort() }, bare);
    started.push(connect.child);
    const statusWorkflowId = await completedWorkflow(temporal.httpUrl);

    const run: Run = { ghz, scratch, temporalPid: temporal.child.pid, temporalAddress: temporal.address };
    const all = buildScenarios({ temporal, flowgate, fastify, connect, statusWorkflowId, protoDir: path.join(REPO_ROOT, "proto") }, SETTINGS.concurrency);
    const scenarios = all.filter((s) => SETTINGS.scenarios === undefined || SETTINGS.scenarios.includes(s.id));

    for (const scenario of scenarios) for (const target of scenario.targets) await probe(run, target);
    const windows = scenarios.reduce((n, s) => n + s.targets.length * s.passes.length, 0) * SETTINGS.rounds;
    const estimate = scenarios.reduce((s, sc) => s + sc.targets.length * (SETTINGS.warmupS + sc.passes.length * SETTINGS.durationS + 1.5), 0) * SETTINGS.rounds;
    log(`all targets answer; measuring ${windows} windows of ${SETTINGS.durationS} s, about ${Math.ceil(estimate / 60)} min`);

    const measurements: Measurement[] = [];
    for (let round = 1; round <= SETTINGS.rounds; round++) {
      for (const scenario of scenarios) {
        // Each round starts with another target, so none is always the first after a scenario change.
        const shift = (round - 1) % scenario.targets.length;
        for (const target of [...scenario.targets.slice(shift), ...scenario.targets.slice(0, shift)]) {
          for (const child of started) {
            if (child.process.exitCode !== null || child.process.signalCode !== null) throw new Error(`${child.name} has exited:\n${child.tail()}`);
          }
          const measure = target.load.kind === "grpc" ? measureWithGhz : measureWithLoadProcess;
          const results = await measure(run, scenario, target, round);
          measurements.push(...results);
          for (const m of results) {
            const r = m.result;
            const summary = r === undefined ? `FAILED: ${m.failure?.split("\n")[0]}` : `${(r.calls / r.seconds).toFixed(0)} calls/s, p50 ${r.p50.toFixed(2)} ms${r.errors ? `, ${r.errors} errors` : ""}`;
            log(`round ${round}/${SETTINGS.rounds} ${scenario.id} · ${target.name} · ${m.concurrency} caller${m.concurrency === 1 ? "" : "s"}: ${summary}`);
          }
        }
      }
    }

    const tables = tabulate(scenarios, measurements);
    const git = gitDescription();
    const machine = machineDescription();
    const meta = {
      date: startedAt.toISOString(),
      minutes: Number(((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)),
      command: commandLine("bench"),
      gatewayCommand: GATEWAY_CMD,
      git,
      machine,
      loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
      settings: SETTINGS,
      versions: {
        temporalCli: TEMPORAL_CLI_VERSION,
        ghz: GHZ_VERSION,
        autocannon: (JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules/autocannon/package.json"), "utf8")) as { version: string }).version,
      },
    };
    const markdown = [
      `## ${meta.date.slice(0, 16).replace("T", " ")} UTC, ${git ? `${git.commit}${git.dirty ? " (with uncommitted changes)" : ""}` : "no git"}`,
      "",
      `- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}; load average at the end ${meta.loadAverageAtEnd.join(" ")}`,
      `- command: \`${meta.command}\` (${meta.minutes} min); gateway: \`${GATEWAY_CMD}\`; gateway cores ${gatewayCpus ?? "any"}, load cores ${loadCpus ?? "any"}`,
      `- each row: the median of ${SETTINGS.rounds} round${SETTINGS.rounds === 1 ? "" : "s"} of ${SETTINGS.durationS} s after a ${SETTINGS.warmupS} s warm-up; ratios: p50 · calls/s · gateway CPU per call`,
      "",
      ...tables.flatMap((table) => [renderTable(table), ""]),
    ].join("\n");
    console.log(`\n${markdown}`);

    const resultsDir = path.join(BENCH_DIR, "results");
    mkdirSync(resultsDir, { recursive: true });
    const stamp = meta.date.replace(/[:.]/g, "-");
    writeFileSync(path.join(resultsDir, `${stamp}.json`), `${JSON.stringify({ meta, tables, measurements }, null, 2)}\n`);
    writeFileSync(path.join(resultsDir, `${stamp}.md`), markdown);
    log(`written: bench/results/${stamp}.json and .md`);
    keepScratch = false;
  } finally {
    await stopAll();
    if (keepScratch) log(`Flowgate's log and the run's files are kept in ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
