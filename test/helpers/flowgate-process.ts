// Flowgate as `npm start` runs it: compiled src/main.ts (dist/src/main.js) in its own process, with its own
// environment and working folder, watched until it says it serves (or exits).
import { spawn, type ChildProcess } from "node:child_process";
import readline from "node:readline";
import path from "node:path";
import { REPO_ROOT } from "./tools.js";

export interface FlowgateProcess {
  readonly process: ChildProcess;
  /** http://127.0.0.1:PORT once it serves. */
  readonly baseUrl: string;
  /** Everything it printed so far, one entry per line. */
  readonly output: string[];
  readonly exited: Promise<number | null>;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/** Compiled Flowgate, as production runs it (`npm start` builds it first; so does the tests' global setup). */
const MAIN = path.join(REPO_ROOT, "dist/src/main.js");

/** The environment of the test process without anything that would point Flowgate elsewhere. */
export function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FLOWGATE_LOG_PRETTY: "false" };
  for (const name of Object.keys(env)) {
    if (/^(FLOWGATE_|TEMPORAL_)/.test(name) && name !== "TEMPORAL_CLI" && name !== "FLOWGATE_LOG_PRETTY") delete env[name];
  }
  return { ...env, ...extra };
}

/** Every Flowgate a test file started, so none outlives a failed test. */
const running = new Set<FlowgateProcess>();

export async function stopAllFlowgates(): Promise<void> {
  await Promise.all([...running].map((f) => f.stop()));
}

/** Starts Flowgate and resolves once it logs that it serves; rejects with its output when it exits first. */
export async function startFlowgate(
  env: NodeJS.ProcessEnv,
  options: { cwd?: string; timeoutMs?: number; /** Node's arguments; compiled main.js by default. */ args?: readonly string[] } = {},
): Promise<FlowgateProcess> {
  const { process: child, output, exited } = spawnFlowgate(env, options.cwd, options.args);
  const flowgate = {
    process: child,
    output,
    exited,
    baseUrl: "",
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  running.add(flowgate);
  void exited.then(() => running.delete(flowgate));
  flowgate.baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Flowgate did not start:\n${output.join("\n")}`)), options.timeoutMs ?? 90_000);
    const watch = (line: string) => {
      const match = /serves gRPC, gRPC-Web, Connect and REST on (http:\/\/[\w.:]+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    output.forEach(watch);
    lineListeners.set(child, watch);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Flowgate exited with ${code}:\n${output.join("\n")}`));
    });
  });
  return flowgate;
}

const lineListeners = new WeakMap<ChildProcess, (line: string) => void>();

/** Runs Flowgate to its exit (for start-ups that must fail): its exit code and output. */
export async function runFlowgateToExit(env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number | null; output: string }> {
  const { output, exited } = spawnFlowgate(env, cwd);
  const code = await exited;
  return { code, output: output.join("\n") };
}

function spawnFlowgate(env: NodeJS.ProcessEnv, cwd = REPO_ROOT, args: readonly string[] = [MAIN]) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  let pending = 2;
  const exited = new Promise<number | null>((resolve) => {
    let code: number | null = null;
    const settle = () => {
      if (--pending === 0) resolve(code);
    };
    child.once("exit", (c) => {
      code = c;
      settle();
    });
    // Resolve only once every line is read, so the output is complete.
    let streams = 2;
    for (const stream of [child.stdout, child.stderr]) {
      const lines = readline.createInterface({ input: stream });
      lines.on("line", (line) => {
        output.push(line);
        lineListeners.get(child)?.(line);
      });
      lines.once("close", () => {
        if (--streams === 0) settle();
      });
    }
  });
  return { process: child, output, exited };
}
