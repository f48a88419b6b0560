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
  /** Each waiting watcher's wake-up, called once when the tail has more to say; swapped out at each wake. */
  waiting = new Set<() => void>();
  private readonly stop = new AbortController();

  constructor(engine: WorkflowEngine, run: RunRef, onEnd: () => void) {
    void this.read(engine, run).finally(onEnd);
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
    // A new set for the next wake: a watcher woken now waits again in that one, after this loop.
    const waiting = this.waiting;
    this.waiting = new Set();
    for (const wake of waiting) wake();
  }
}

/**
 * One watcher's place in a run's events. Its reader takes the events there are, then waits for more; a
 * thousand watchers woken by one event cost a thousand promise resolutions and nothing else (no listener
 * added or removed per wake).
 */
export class RunCursor {
  private next = 0;
  private wakeUp: (() => void) | undefined;
  private readonly onAbort = () => this.wakeUp?.();

  constructor(
    private readonly tail: RunTail,
    private readonly signal: AbortSignal,
    private readonly onClose: () => void,
  ) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** The next event there already is, or undefined: then the run has ended (`ended`) or `wait` for more. */
  take(): WatchEvent | undefined {
    return this.next < this.tail.events.length ? this.tail.events[this.next++] : undefined;
  }

  /**
   * Called when `take` has nothing: true when the run has ended, false when more may come (`wait`). Throws
   * when the history read failed or the watcher's signal aborted.
   */
  atEnd(): boolean {
    if (this.next < this.tail.events.length) return false;
    if (this.tail.failure !== undefined) throw asError(this.tail.failure);
    if (this.tail.done) return true;
    if (this.signal.aborted) throw asError(this.signal.reason);
    return false;
  }

  /** Resolves when the run has more to say (an event, its end, a failure) or the watcher's signal aborts. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.tail.waiting;
      this.wakeUp = () => {
        waiting.delete(this.wakeUp!);
        this.wakeUp = undefined;
        resolve();
      };
      waiting.add(this.wakeUp);
    });
  }

  /** Leaves the run: the last watcher to leave lets its history poll go, after a linger. */
  close(): void {
    this.signal.removeEventListener("abort", this.onAbort);
    this.wakeUp?.();
    this.onClose();
  }
}

export class WatchHub {
  private readonly tails = new Map<string, RunTail>();

  constructor(private readonly engine: WorkflowEngine) {}

  /** A cursor at the run's first event; the caller must `close` it. */
  open(run: RunRef, signal: AbortSignal): RunCursor {
    const tail = this.join(run);
    let closed = false;
    return new RunCursor(tail, signal, () => {
      if (closed) return;
      closed = true;
      this.leave(run, tail);
    });
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
