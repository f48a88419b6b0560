// The benchmark's child processes: each pinned to a set of cores with taskset, so the gateway under test and
// the load generator never share one, and each tied to the runner's life (setpriv --pdeathsig), so a
// runner killed with kill -9 leaves nothing behind. taskset and setpriv exec the command, so the child's pid
// is the command's own: the pid whose /proc entries the runner reads.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import readline from "node:readline";

function available(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

const HAS_TASKSET = available("taskset");
const HAS_SETPRIV = available("setpriv");

/** A taskset CPU list ("0", "1-3"), or undefined to run unpinned. */
export type Cpus = string | undefined;

/** Whether processes can be pinned here; without taskset the benchmark still runs, with a warning. */
export const canPin = HAS_TASKSET;

/** Pins this process (every thread of it) to `cpus`. */
export function pinSelf(cpus: Cpus): void {
  if (cpus === undefined || !HAS_TASKSET) return;
  spawnSync("taskset", ["--all-tasks", "--cpu-list", "--pid", cpus, String(process.pid)], { stdio: "ignore" });
}

/** A child the benchmark started; its last lines of output are kept for error messages. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once it has exited and its output is read. */
  readonly exited: Promise<number | string | null>;
  /** The last lines it printed on stdout and stderr. */
  tail(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnPinnedOptions extends Pick<SpawnOptions, "cwd" | "env"> {
  readonly cpus: Cpus;
  /** Called with each line on stdout (stderr lines go to the tail only). */
  readonly onLine?: (line: string) => void;
  /** Where stdout goes: "pipe" (read, for onLine and the tail) or a file descriptor (a log file). */
  readonly stdout?: "pipe" | number;
}

const TAIL_LINES = 40;

export function spawnPinned(name: string, command: string, args: readonly string[], options: SpawnPinnedOptions): Child {
  let argv = [command, ...args];
  if (options.cpus !== undefined && HAS_TASKSET) argv = ["taskset", "--cpu-list", options.cpus, ...argv];
  if (HAS_SETPRIV) argv = ["setpriv", "--pdeathsig", "TERM", "--", ...argv];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", options.stdout ?? "pipe", "pipe"],
  });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
  };
  if (child.stdout !== null) {
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      keep(line);
      options.onLine?.(line);
    });
  }
  readline.createInterface({ input: child.stderr! }).on("line", keep);
  const exited = new Promise<number | string | null>((resolve) => {
    // "close", not "exit": by then every line it printed has been read.
    child.once("close", (code, signal) => resolve(code ?? signal));
    child.once("error", (err) => {
      keep(`could not run ${command}: ${err.message}`);
      resolve(null);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  return {
    name,
    pid: child.pid,
    process: child,
    exited,
    tail: () => lines.join("\n"),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `ready` every 100 ms until it resolves true; fails when the child exits first or time runs out. */
export async function waitUntil(child: Child, what: string, ready: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: number | string | null | undefined;
  void child.exited.then((code) => (exit = code));
  for (;;) {
    if (exit !== undefined) throw new Error(`${child.name} exited (${exit}) before ${what}:\n${child.tail()}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${child.name}: no ${what} after ${timeoutMs / 1000} s:\n${child.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
