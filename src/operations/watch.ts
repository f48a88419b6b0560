// One history poll per watched run, shared by all its watchers in this process. A thousand clients
// watching one run cost one long poll against Temporal, not a thousand; each watcher reads the run's events
// from the shared list at its own pace. The events of a run stay in memory while someone watches it, and a
// few seconds after, so a client that reconnects at once finds them still there.
import type { RunRef, WatchEvent, WorkflowEngine } from "./engine.js";

/** How long a run's events are kept after its last watcher leaves. */
const LINGER_MS = 5_000;

/** The events of one run, read once from Temporal, and the watchers waiting for more. */
class RunTail {
  readonly events: WatchEvent[] = [];
  done = false;
  failure: unknown = undefined;
  watchers = 0;
  lingering: NodeJS.Timeout | undefined;
  private readonly waiting = new Set<() => void>();
  private readonly stop = new AbortController();

  constructor(engine: WorkflowEngine, run: RunRef, onEnd: () => void) {
    void this.read(engine, run).finally(onEnd);
  }

  /** Resolves when the tail has more to say (an event, its end, a failure) or `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.waiting.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.waiting.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  close(): void {
    this.stop.abort(new Error("no one watches this run any more"));
  }

  private async read(engine: WorkflowEngine, run: RunRef): Promise<void> {
    try {
      for await (const event of engine.watchRun(run, this.stop.signal)) {
        this.events.push(event);
        this.wake();
      }
      this.done = true;
    } catch (err) {
      this.failure = err;
    }
    this.wake();
  }

  private wake(): void {
    for (const wake of [...this.waiting]) wake();
  }
}

export class WatchHub {
  private readonly tails = new Map<string, RunTail>();

  constructor(private readonly engine: WorkflowEngine) {}

  /** The run's events from its first, as they happen; ends after its close event. */
  async *events(run: RunRef, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const tail = this.join(run);
    try {
      let next = 0;
      for (;;) {
        while (next < tail.events.length) yield tail.events[next++]!;
        if (tail.failure !== undefined) throw asError(tail.failure);
        if (tail.done) return;
        if (signal.aborted) throw asError(signal.reason);
        await tail.changed(signal);
      }
    } finally {
      this.leave(run, tail);
    }
  }

  private join(run: RunRef): RunTail {
    const key = keyOf(run);
    let tail = this.tails.get(key);
    if (tail === undefined) {
      const created: RunTail = new RunTail(this.engine, run, () => {
        // A failed read is not kept: the next watcher tries Temporal again.
        if (created.failure !== undefined && this.tails.get(key) === created) this.tails.delete(key);
      });
      tail = created;
      this.tails.set(key, tail);
    }
    clearTimeout(tail.lingering);
    tail.lingering = undefined;
    tail.watchers++;
    return tail;
  }

  private leave(run: RunRef, tail: RunTail): void {
    if (--tail.watchers > 0) return;
    tail.lingering = setTimeout(() => {
      if (tail.watchers > 0) return;
      tail.close();
      if (this.tails.get(keyOf(run)) === tail) this.tails.delete(keyOf(run));
    }, LINGER_MS);
    tail.lingering.unref();
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

function keyOf(run: RunRef): string {
  return `${run.workflowId}\0${run.runId}`;
}
