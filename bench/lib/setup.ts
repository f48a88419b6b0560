// What both benchmarks (run.ts, watchers.ts) need around their measurements: their settings from the
// environment, the cores they pin to, a free port, and how a results file names the code and the command.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { canPin, type Cpus } from "./processes.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function setting(name: string, fallback: number, min: number): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number of at least ${min}, got "${text}"`);
  return value;
}

/** The gateway gets the last core to itself; everything else (load generators, Temporal, its worker) the others. */
export function defaultCpus(): { gateway: Cpus; load: Cpus } {
  const cores = os.availableParallelism();
  if (!canPin || cores < 2) return { gateway: undefined, load: undefined };
  return { gateway: String(cores - 1), load: cores === 2 ? "0" : `0-${cores - 2}` };
}

/** How many cores a taskset list names ("0", "0-2,5"). */
export function countCpus(list: Cpus): number {
  if (list === undefined) return os.availableParallelism();
  return list.split(",").reduce((n, part) => {
    const [from, to] = part.split("-").map(Number);
    return n + (to === undefined ? 1 : to - from! + 1);
  }, 0);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function gitDescription(): { commit: string; dirty: boolean } | undefined {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "gen", "package.json"], { cwd: REPO_ROOT, encoding: "utf8" }).trim() !== "";
    return { commit, dirty };
  } catch {
    return undefined;
  }
}

/** The command that reproduces this run: its BENCH_ (and related) settings, then the npm script. */
export function commandLine(script: string): string {
  const given = Object.keys(process.env)
    .filter((name) => name.startsWith("BENCH_") || name === "FLOWGATE_LOG_LEVEL" || name === "TEMPORAL_CLI")
    .sort()
    .map((name) => `${name}=${JSON.stringify(process.env[name]).replace(/^"([\w./:,-]*)"$/, "$1")}`);
  return [...given, `npm run ${script}`].join(" ");
}

/**
 * How Flowgate is run, as `npm start` runs it: the `node …` command its script ends with, Node's flags
 * included, so a benchmark measures what users run. BENCH_GATEWAY_CMD replaces it (to profile, say).
 */
export function gatewayCommand(): string {
  const given = process.env.BENCH_GATEWAY_CMD?.trim();
  if (given) return given;
  const start = (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.start ?? "";
  const command = /\bexec (node .*)$/.exec(start)?.[1];
  if (command === undefined) throw new Error(`package.json's start script does not end with "exec node ...": ${start}`);
  return command;
}

/** The Node flags of a `node [flags] script` command line, for a comparison server run the same way. */
export function nodeFlags(command: string): string[] {
  const [program, ...args] = command.trim().split(/\s+/);
  if (program === undefined || path.basename(program) !== "node") return [];
  const flags: string[] = [];
  for (const arg of args) {
    if (!arg.startsWith("--")) break;
    flags.push(arg);
  }
  return flags;
}

/** The machine a results file was measured on. */
export function machineDescription(): { cpu: string; cores: number; memoryGiB: number; kernel: string; node: string } {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length, // not availableParallelism(): a benchmark's process is pinned by then
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}
