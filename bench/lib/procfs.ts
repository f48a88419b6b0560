// What a process costs, read from /proc (Linux): CPU time (utime + stime) and resident memory. The runner
// reads these for the gateway under test before and after each measured window, so the process is
// measured from outside, the same way whatever it runs (a Node gateway, a Go server, a client process).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second, the unit of utime and stime (100 on every Linux we know, but asked once). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The process and its live descendants (a gateway started through a wrapper, or one that spawns workers). */
function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${tree[i]}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${tree[i]}/task/${task}/children`, "utf8").trim();
        if (children !== "") tree.push(...children.split(/\s+/).map(Number));
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return tree;
}

/** CPU time, user plus system, of a process and its live descendants, in milliseconds. */
export function cpuTimeMs(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      // The command name (field 2) may hold spaces and parentheses: count fields from its closing one.
      const stat = readFileSync(`/proc/${member}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime are fields 14 and 15 of the line; here, after the state (field 3), indexes 11 and 12.
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/** Resident memory of a process and its live descendants (VmRSS), in bytes; undefined once it has exited. */
export function rssBytes(pid: number): number | undefined {
  let total: number | undefined;
  for (const member of processTree(pid)) {
    try {
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${member}/status`, "utf8"))?.[1];
      if (kb !== undefined) total = (total ?? 0) + Number(kb) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** The highest VmRSS seen while it runs, sampled every `intervalMs`. */
export function watchPeakRss(pid: number, intervalMs = 100): { stop(): number | undefined } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    const now = rssBytes(pid);
    if (now !== undefined && (peak === undefined || now > peak)) peak = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const now = rssBytes(pid);
      return now !== undefined && (peak === undefined || now > peak) ? now : peak;
    },
  };
}
