// What the runner asks of a load process (bench/load.ts) and what it answers, one JSON line at a time on
// its stdout. The events let the runner read the gateway's CPU time exactly around each measured window:
//
//   {"event":"ready"}                       set up (clients connected), nothing sent yet
//   {"event":"measure","pass":0}             warm-up over: the measured window of pass 0 starts now
//   {"event":"done","pass":0,"result":{..}}  that window is over
//   ... measure/done for each further pass, then the process exits 0.

/** One HTTP request of a call; `{id}` in the path or body becomes a fresh UUID for each call. */
export interface HttpStep {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a direct Temporal client does for one call. */
export type ClientOperation =
  | { readonly kind: "start"; readonly taskQueue: string; readonly workflowType?: string; readonly input?: unknown }
  | { readonly kind: "run"; readonly taskQueue: string }
  | { readonly kind: "status"; readonly workflowId: string };

export type LoadDriver =
  /** autocannon: one call is `steps` in turn on one keep-alive HTTP/1.1 connection (of `concurrency`). */
  | { readonly kind: "http"; readonly baseUrl: string; readonly steps: readonly HttpStep[] }
  /** A Temporal client in the load process itself: @temporalio/client's Connection, or the worker's NativeConnection. */
  | { readonly kind: "client"; readonly connection: "grpc-js" | "native"; readonly address: string; readonly namespace: string; readonly operation: ClientOperation };

export interface LoadSpec {
  readonly driver: LoadDriver;
  readonly warmupS: number;
  readonly durationS: number;
  /** Callers in flight in each measured pass, in order; the warm-up runs at the first pass's. */
  readonly passes: readonly number[];
}

/** One measured window, as a load generator saw it. */
export interface LoadResult {
  /** Calls that succeeded within the window. */
  readonly calls: number;
  readonly errors: number;
  /** A few error messages, for the report. */
  readonly errorSamples: readonly string[];
  /** Wall time of the window. */
  readonly seconds: number;
  /** Latency of successful calls, milliseconds. */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export type LoadEvent =
  | { readonly event: "ready" }
  | { readonly event: "measure"; readonly pass: number }
  | { readonly event: "done"; readonly pass: number; readonly result: LoadResult };

/** The p-th percentile (nearest rank) of latencies sorted ascending; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A LoadResult from the latencies of the successful calls. */
export function summarize(latenciesMs: number[], errors: number, errorSamples: readonly string[], seconds: number): LoadResult {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    calls: sorted.length,
    errors,
    errorSamples,
    seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}
