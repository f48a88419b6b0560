import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { accessSync, constants } from "node:fs";

/** util-linux's setpriv (essential on Debian): it can ask the kernel to signal a child when its parent dies. */
const SETPRIV = (() => {
  try {
    accessSync("/usr/bin/setpriv", constants.X_OK);
    return "/usr/bin/setpriv";
  } catch {
    return undefined;
  }
})();

/**
 * Spawns a process Flowgate owns: in its own process group, so a Ctrl-C at the terminal reaches only
 * Flowgate, which then stops it in order; and, where setpriv is available, with SIGTERM from the kernel if
 * Flowgate dies without stopping it (kill -9, a crash), so it never outlives Flowgate.
 */
export function spawnOwned(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const [file, argv] = SETPRIV ? [SETPRIV, ["--pdeathsig", "TERM", "--", command, ...args]] : [command, [...args]];
  return spawn(file, argv, { ...options, detached: true });
}

/** Asks a child process to stop (SIGTERM), kills it after `graceMs`, and resolves once it has exited. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
