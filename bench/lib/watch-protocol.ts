// What the watch benchmark (bench/watchers.ts) asks of its load process (bench/watch-load.ts) and what it
// answers, one JSON line at a time on the load process's stdout:
//
//   {"event":"idle","rssBytes":..}          clients created, no stream open yet (its memory before the load)
//   {"event":"ready","seconds":..}          every watcher's stream is open and has read its run's first event
//   {"event":"done","seconds":..,"watchers":[..]}  every stream has ended (or failed): what each one received
//
// Between "ready" and "done" the runner starts the worker that runs the watched runs, so every progress
// event is recorded while all watchers already wait for it.

/** A run to watch: its workflow id and run id (the runs exist, not yet picked up by any worker). */
export interface WatchedRun {
  readonly workflowId: string;
  readonly runId: string;
}

/** Where the watchers read a run's events from. */
export type WatchSource =
  /** Flowgate's WatchWorkflow, a server stream per watcher, over HTTP/2 (connect-node). */
  | { readonly kind: "flowgate"; readonly baseUrl: string; readonly protocol: "grpc" | "connect"; readonly progressOnly: boolean }
  /** Temporal itself: per watcher, getWorkflowExecutionHistory long polls (waitNewEvent) on @temporalio/client. */
  | { readonly kind: "temporal"; readonly address: string; readonly namespace: string };

export interface WatchSpec {
  readonly source: WatchSource;
  readonly runs: readonly WatchedRun[];
  readonly watchersPerRun: number;
  /** HTTP/2 connections the watchers are spread over, in turn. */
  readonly connections: number;
  /** The memo key of progress reports (a history event upserting it is a PROGRESS event). */
  readonly progressMemo: string;
  /** Streams still open after this many seconds are cancelled and reported failed. */
  readonly timeoutS: number;
}

/** What one watcher received. */
export interface WatcherReport {
  /** Its run, as an index into WatchSpec.runs. */
  readonly run: number;
  /**
   * Each PROGRESS event received, in order: [history event id, delay in ms from the event's time in
   * Temporal to this process reading it].
   */
  readonly progress: readonly (readonly [number, number])[];
  /** Messages received: WatchWorkflow events from Flowgate, history events from Temporal. */
  readonly messages: number;
  /** Whether its stream ended with the run (rather than failing or being cancelled). */
  readonly ended: boolean;
  readonly error?: string;
}

export type WatchLoadEvent =
  | { readonly event: "idle"; readonly rssBytes: number }
  | { readonly event: "ready"; readonly seconds: number }
  | { readonly event: "done"; readonly seconds: number; readonly watchers: readonly WatcherReport[] };
