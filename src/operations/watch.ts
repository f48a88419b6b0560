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
  /** The watchers waiting for more, told once when the tail has more to say; swapped out at each wake. */
  waiting = new Set<RunCursor>();
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
    // A new set for the next wake: a watcher told now that waits on (nothing it wants came) is in that one.
    const waiting = this.waiting;
    this.waiting = new Set();
    for (const cursor of waiting) cursor.notify();
  }
}

/**
 * One watcher's place in a run's events, showing it only the events it wants. Its reader takes the events
 * there are, then waits for more. A thousand watchers told of one event cost a thousand calls of `notify`;
 * only those that want the event are woken (a promise resolved, a generator resumed, a message sent), and no
 * listener is added or removed per wake.
 */
class RunCursor {
  private next = 0;
  private resolve: (() => void) | undefined;
  private readonly onAbort = () => this.release();

  constructor(
    private readonly tail: RunTail,
    private readonly signal: AbortSignal,
    private readonly wants: ((event: WatchEvent) => boolean) | undefined,
    private readonly onClose: () => void,
  ) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** The next wanted event there already is, or undefined: then the run has ended (`atEnd`) or `wait` for more. */
  take(): WatchEvent | undefined {
    this.skipUnwanted();
    return this.next < this.tail.events.length ? this.tail.events[this.next++] : undefined;
  }

  /**
   * Called when `take` has nothing: true when the run has ended, false when more may come (`wait`). Throws
   * when the history read failed or the watcher's signal aborted.
   */
  atEnd(): boolean {
    this.skipUnwanted();
    if (this.next < this.tail.events.length) return false;
    if (this.tail.failure !== undefined) throw asError(this.tail.failure);
    if (this.tail.done) return true;
    if (this.signal.aborted) throw asError(this.signal.reason);
    return false;
  }

  /** Resolves when the run has something for this watcher (a wanted event, its end, a failure) or its signal aborts. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.tail.waiting.add(this);
    });
  }

  /** From the tail, which has news: wakes the reader if any of it is for this watcher, else waits on. */
  notify(): void {
    if (this.resolve === undefined) return;
    this.skipUnwanted();
    if (this.next < this.tail.events.length || this.tail.done || this.tail.failure !== undefined) this.release();
    else this.tail.waiting.add(this);
  }

  /** Leaves the run: the last watcher to leave lets its history poll go, after a linger. */
  close(): void {
    this.signal.removeEventListener("abort", this.onAbort);
    this.release();
    this.onClose();
  }

  private skipUnwanted(): void {
    const { events } = this.tail;
    if (this.wants !== undefined) while (this.next < events.length && !this.wants(events[this.next]!)) this.next++;
  }

  private release(): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    this.tail.waiting.delete(this);
    resolve?.();
  }
}

export class WatchHub {
  private readonly tails = new Map<string, RunTail>();

  constructor(private readonly engine: WorkflowEngine) {}

  /**
   * A cursor at the run's first event that `wants` (every event without it); the caller must `close` it.
   * Unwanted events neither wake the watcher nor reach it.
   */
  open(run: RunRef, signal: AbortSignal, wants?: (event: WatchEvent) => boolean): Pick<RunCursor, "take" | "atEnd" | "wait" | "close"> {
    const tail = this.join(run);
    let closed = false;
    return new RunCursor(tail, signal, wants, () => {
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
