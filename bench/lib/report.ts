// From the measured windows to the report: the median round of each target, its ratios to the scenario's
// baseline, a Markdown table per scenario and pass (printed, and pasted into bench/RESULTS.md), and the JSON
// document written to bench/results/ to compare commits.
import type { LoadResult } from "./protocol.js";
import type { Scenario } from "./scenarios.js";

/** One measured window of one target, in one round. */
export interface Measurement {
  readonly scenario: string;
  readonly target: string;
  readonly concurrency: number;
  readonly round: number;
  /** Undefined when the window failed; `failure` says why. */
  readonly result?: LoadResult;
  readonly failure?: string;
  /** CPU time of the gateway process over the window; undefined when there is none to measure. */
  readonly gatewayCpuMs?: number;
  readonly temporalCpuMs?: number;
  /** The gateway's resident memory once started, before any load, and the most seen in the window. */
  readonly rssIdleBytes?: number;
  readonly rssPeakBytes?: number;
}

/** A target's median round, with what is derived from it. */
export interface Row {
  readonly target: string;
  readonly measured: number;
  readonly failed: number;
  readonly median?: Measurement & {
    readonly callsPerSecond: number;
    readonly gatewayCpuMsPerCall?: number;
    readonly temporalCpuMsPerCall?: number;
  };
  /** This row over the scenario's baseline (and over its peer baseline, when it has one): above 1 is slower or costlier for p50 and CPU, faster for calls/s. */
  readonly vsBaseline?: Ratios;
  readonly vsPeer?: Ratios & { readonly peer: string };
}

export interface Ratios {
  readonly p50: number;
  readonly callsPerSecond: number;
  readonly gatewayCpuPerCall?: number;
}

export interface Table {
  readonly scenario: string;
  readonly title: string;
  readonly concurrency: number;
  readonly baseline: string;
  readonly callsTemporal: boolean;
  readonly rows: readonly Row[];
}

/**
 * The median round: the middle one by throughput when callers are concurrent, by p50 latency for a single
 * caller (what that pass is for). Its figures are reported together, never mixed across rounds.
 */
function medianRound(measurements: readonly Measurement[], concurrency: number): Measurement | undefined {
  const ok = measurements.filter((m) => m.result !== undefined && m.result.calls > 0);
  const key = (m: Measurement) => (concurrency === 1 ? m.result!.p50 : m.result!.calls / m.result!.seconds);
  return ok.sort((a, b) => key(a) - key(b))[Math.floor((ok.length - 1) / 2)];
}

function toRow(target: string, measurements: readonly Measurement[], concurrency: number): Row {
  const median = medianRound(measurements, concurrency);
  const failed = measurements.filter((m) => m.result === undefined).length;
  if (median === undefined) return { target, measured: measurements.length, failed };
  const calls = median.result!.calls;
  return {
    target,
    measured: measurements.length,
    failed,
    median: {
      ...median,
      callsPerSecond: calls / median.result!.seconds,
      gatewayCpuMsPerCall: median.gatewayCpuMs === undefined ? undefined : median.gatewayCpuMs / calls,
      temporalCpuMsPerCall: median.temporalCpuMs === undefined ? undefined : median.temporalCpuMs / calls,
    },
  };
}

function ratios(row: Row, base: Row | undefined): Ratios | undefined {
  const [a, b] = [row.median, base?.median];
  if (a === undefined || b === undefined) return undefined;
  return {
    p50: a.result!.p50 / b.result!.p50,
    callsPerSecond: a.callsPerSecond / b.callsPerSecond,
    gatewayCpuPerCall: a.gatewayCpuMsPerCall === undefined || b.gatewayCpuMsPerCall === undefined ? undefined : a.gatewayCpuMsPerCall / b.gatewayCpuMsPerCall,
  };
}

/** One table per scenario and pass, rows in the scenario's order. */
export function tabulate(scenarios: readonly Scenario[], measurements: readonly Measurement[]): Table[] {
  const tables: Table[] = [];
  for (const scenario of scenarios) {
    for (const concurrency of scenario.passes) {
      const of = (target: string) => measurements.filter((m) => m.scenario === scenario.id && m.concurrency === concurrency && m.target === target);
      const rows = new Map(scenario.targets.map((t) => [t.name, toRow(t.name, of(t.name), concurrency)]));
      const base = rows.get(scenario.baseline);
      tables.push({
        scenario: scenario.id,
        title: scenario.title,
        concurrency,
        baseline: scenario.baseline,
        callsTemporal: scenario.callsTemporal,
        rows: [...rows.values()].map((row) => {
          const peer = scenario.peers?.[row.target];
          const vsPeer = peer === undefined ? undefined : ratios(row, rows.get(peer));
          return { ...row, vsBaseline: ratios(row, base), vsPeer: vsPeer && peer !== undefined ? { ...vsPeer, peer } : undefined };
        }),
      });
    }
  }
  return tables;
}

const ms = (value: number) => (Number.isNaN(value) ? "–" : value < 10 ? value.toFixed(2) : value.toFixed(1));
const mb = (bytes: number | undefined) => (bytes === undefined ? "–" : (bytes / 2 ** 20).toFixed(0));
const times = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? "–" : `${value.toFixed(2)}×`);
const ratioCell = (r: Ratios | undefined) => (r === undefined ? "–" : `${times(r.p50)} · ${times(r.callsPerSecond)} · ${times(r.gatewayCpuPerCall)}`);

/** A table in Markdown: readable on a terminal, and pasted as is into bench/RESULTS.md. */
export function renderTable(table: Table): string {
  const hasPeers = table.rows.some((r) => r.vsPeer !== undefined);
  const header = ["target", "p50 ms", "p95 ms", "p99 ms", "calls/s", "gateway CPU ms/call"];
  if (table.callsTemporal) header.push("Temporal CPU ms/call");
  header.push("RSS idle → peak MB", "errors", `vs ${table.baseline}: p50 · calls/s · CPU`);
  // Named once when every row compares with one peer (the large scenario's bare Fastify), else as "its peer".
  const peers = new Set(table.rows.flatMap((r) => (r.vsPeer === undefined ? [] : [r.vsPeer.peer])));
  if (hasPeers) header.push(`vs ${peers.size === 1 ? [...peers][0] : "its bare peer"}: p50 · calls/s · CPU`);
  const lines = [
    `### ${table.title}, ${table.concurrency} caller${table.concurrency === 1 ? "" : "s"}`,
    "",
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ];
  for (const row of table.rows) {
    const m = row.median;
    const failed = row.failed > 0 ? ` (${row.failed} of ${row.measured} rounds failed)` : "";
    if (m === undefined) {
      lines.push(`| ${row.target} | no successful round${failed} |${" |".repeat(header.length - 2)}`);
      continue;
    }
    const r = m.result!;
    const cells = [row.target + failed, ms(r.p50), ms(r.p95), ms(r.p99), r.calls === 0 ? "0" : (m.callsPerSecond).toFixed(0)];
    cells.push(m.gatewayCpuMsPerCall === undefined ? "–" : m.gatewayCpuMsPerCall.toFixed(3));
    if (table.callsTemporal) cells.push(m.temporalCpuMsPerCall === undefined ? "–" : m.temporalCpuMsPerCall.toFixed(3));
    cells.push(m.rssIdleBytes === undefined && m.rssPeakBytes === undefined ? "–" : `${mb(m.rssIdleBytes)} → ${mb(m.rssPeakBytes)}`);
    cells.push(r.errors === 0 ? "0" : `${r.errors} (${r.errorSamples[0] ?? ""})`);
    cells.push(row.target === table.baseline ? "baseline" : ratioCell(row.vsBaseline));
    if (hasPeers) cells.push(row.vsPeer === undefined ? "" : ratioCell(row.vsPeer));
    lines.push(`| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`);
  }
  return lines.join("\n");
}
