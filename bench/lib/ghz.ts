// ghz, the gRPC load generator: pinned, built once by the Go toolchain from the module proxy into
// .flowgate/tools (as the tests build grpcurl), and run from the load generator's cores. It reads the
// contract from the vendored .proto files, so it asks the server nothing but the calls under test.
import { execFile } from "node:child_process";
import { access, constants, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { spawnPinned, type Cpus } from "./processes.js";
import { summarize, type LoadResult } from "./protocol.js";

const run = promisify(execFile);

export const GHZ_VERSION = "v0.121.0";

/** The ghz binary, building it on first use (a minute or two; needs Go). */
export async function ensureGhz(toolsDir: string): Promise<string> {
  const dir = path.join(toolsDir, `ghz-${GHZ_VERSION}`);
  const bin = path.join(dir, "ghz");
  try {
    await access(bin, constants.X_OK);
    return bin;
  } catch {
    // not built yet
  }
  process.stderr.write(`building ghz ${GHZ_VERSION} into ${dir} (once)\n`);
  try {
    await run("go", ["install", `github.com/bojand/ghz/cmd/ghz@${GHZ_VERSION}`], {
      env: { ...process.env, GOBIN: dir, GOFLAGS: "-mod=mod" },
      timeout: 540_000,
    });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`could not build ghz ${GHZ_VERSION} with "go install" (is Go installed?): ${detail}`);
  }
  return bin;
}

export interface GhzCall {
  /** host:port of an h2c server. */
  readonly address: string;
  /** The .proto file declaring the method, relative to `importPath`. */
  readonly proto: string;
  readonly importPath: string;
  /** package.Service/Method */
  readonly method: string;
  /** The request, as proto3 JSON. */
  readonly data: object;
}

/** The shape of `ghz -O json` this file reads. */
interface GhzReport {
  readonly total: number;
  readonly details?: readonly { readonly latency: number; readonly status: string; readonly error: string }[];
}

/**
 * When ghz's duration runs out it cancels the calls still in flight, which it then reports as errors; those
 * (at most one per caller) are the window's edge, not failures of the server.
 */
const CUT_AT_THE_END = /closed network connection|client connection is closing|context canceled|transport is closing/i;

/** One window: `concurrency` callers on one HTTP/2 connection (as a gRPC client has) for `seconds`. */
export async function runGhz(bin: string, call: GhzCall, options: { seconds: number; concurrency: number; cpus: Cpus; cpuCount: number }): Promise<LoadResult> {
  // From a file: a large message does not fit in one command-line argument (128 KiB on Linux).
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "flowgate-ghz-"));
  const dataFile = path.join(dataDir, "data.json");
  await writeFile(dataFile, JSON.stringify(call.data));
  const args = [
    "--insecure",
    "--proto",
    call.proto,
    "--import-paths",
    call.importPath,
    "--call",
    call.method,
    "--data-file",
    dataFile,
    "--concurrency",
    String(options.concurrency),
    "--connections",
    "1",
    "--duration",
    `${options.seconds}s`,
    "--cpus",
    String(options.cpuCount),
    "--format",
    "json",
    call.address,
  ];
  const lines: string[] = [];
  const child = spawnPinned("ghz", bin, args, { cpus: options.cpus, cwd: call.importPath, onLine: (line) => lines.push(line) });
  const code = await child.exited;
  await rm(dataDir, { recursive: true, force: true });
  const text = lines.join("\n");
  if (code !== 0 || text.trim() === "") throw new Error(`ghz exited with ${code}:\n${child.tail()}`);
  const report = JSON.parse(text) as GhzReport;
  const latencies: number[] = [];
  const failures: string[] = [];
  let cut = 0;
  for (const detail of report.details ?? []) {
    if (detail.status === "OK" && detail.error === "") latencies.push(detail.latency / 1e6);
    else if (cut < options.concurrency && CUT_AT_THE_END.test(detail.error)) cut++;
    else failures.push(`${detail.status}: ${detail.error}`);
  }
  return summarize(latencies, failures.length, [...new Set(failures)].slice(0, 5), report.total / 1e9);
}
