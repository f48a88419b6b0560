// The load process of the watch benchmark (started by bench/watchers.ts, never by hand): it opens every
// watcher's stream, says when all of them have read their run's first event, then records each PROGRESS
// event as it arrives, and reports what every watcher received (see lib/watch-protocol.ts).
//
// A watcher on Flowgate is one WatchWorkflow server stream, on connect-node over HTTP/2. A watcher on
// Temporal (the baseline) is what an app without Flowgate would run: a loop of getWorkflowExecutionHistory
// long polls (waitNewEvent) on @temporalio/client, decoding each progress report itself. Either way the
// watchers are spread over `connections` HTTP/2 connections, in turn.
//
// The delay of an event is the time this process reads it (after its message is decoded) minus the time
// Temporal recorded the event: both are this machine's wall clock. Each source imports only what it uses,
// so the baseline's memory is that of an app with the Temporal client.
import type { WatchedRun, WatchLoadEvent, WatcherReport, WatchSource, WatchSpec } from "./lib/watch-protocol.js";

/** Opens one watcher's stream and reads it to its end; `onFirst` is called once, at its first message. */
type Watch = (run: WatchedRun, connection: number, onFirst: () => void, signal: AbortSignal) => Promise<Omit<WatcherReport, "run">>;

/** Resolves once the line is handed to the OS: on a pipe stdout writes asynchronously, and the process exits next. */
function emit(event: WatchLoadEvent): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(`${JSON.stringify(event)}\n`, (err) => (err ? reject(err) : resolve())));
}

/**
 * This machine's wall clock in ms, the clock Temporal stamps events with. Whole ms: performance.timeOrigin +
 * performance.now() has finer steps but follows the monotonic clock, which drifted from the wall clock by
 * a millisecond every few seconds on this VM.
 */
const now = () => Date.now();

/** A delay in ms, rounded to 10 µs: enough for the report, and the "done" line stays small. */
const rounded = (ms: number) => Math.round(ms * 100) / 100;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function flowgateWatch(source: Extract<WatchSource, { kind: "flowgate" }>, connections: number): Promise<Watch> {
  const { createClient } = await import("@connectrpc/connect");
  const { createConnectTransport, createGrpcTransport } = await import("@connectrpc/connect-node");
  const { WorkflowService } = await import("../gen/flowgate/workflow/v1/workflow_service_pb.js");
  const { WorkflowEventType } = await import("../gen/flowgate/workflow/v1/workflow_pb.js");
  // One transport is one HTTP/2 session (connect-node's Http2SessionManager): one per connection.
  const clients = Array.from({ length: connections }, () =>
    createClient(
      WorkflowService,
      source.protocol === "grpc"
        ? createGrpcTransport({ baseUrl: source.baseUrl })
        : createConnectTransport({ baseUrl: source.baseUrl, httpVersion: "2" }),
    ),
  );
  // STARTED too: the harness starts the worker once every watcher has its first event.
  const progressAndStarted = [WorkflowEventType.STARTED, WorkflowEventType.PROGRESS];
  return async (run, connection, onFirst, signal) => {
    const progress: [number, number][] = [];
    let messages = 0;
    try {
      for await (const event of clients[connection % clients.length]!.watchWorkflow({ workflowId: run.workflowId, runId: run.runId, types: source.progressOnly ? progressAndStarted : [] }, { signal })) {
        const at = now();
        if (messages++ === 0) onFirst();
        if (event.type === WorkflowEventType.PROGRESS) {
          const time = event.time === undefined ? Number.NaN : Number(event.time.seconds) * 1000 + event.time.nanos / 1e6;
          progress.push([Number(event.eventId), rounded(at - time)]);
        }
      }
      return { progress, messages, ended: true };
    } catch (err) {
      return { progress, messages, ended: false, error: messageOf(err) };
    }
  };
}

async function temporalWatch(source: Extract<WatchSource, { kind: "temporal" }>, connections: number, progressMemo: string): Promise<Watch> {
  const { Connection } = await import("@temporalio/client");
  const { defaultPayloadConverter } = await import("@temporalio/common");
  const { default: protos } = await import("@temporalio/proto");
  const { EventType, HistoryEventFilterType } = protos.temporal.api.enums.v1;
  // grpc-js shares one connection among clients of the same address unless told not to.
  const pool = await Promise.all(
    Array.from({ length: connections }, () => Connection.connect({ address: source.address, channelArgs: { "grpc.use_local_subchannel_pool": 1 } })),
  );
  const toMs = (t: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined) =>
    t === null || t === undefined ? Number.NaN : Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
  return async (run, connection, onFirst, signal) => {
    const conn = pool[connection % pool.length]!;
    const progress: [number, number][] = [];
    let messages = 0;
    let first = true;
    let nextPageToken: Uint8Array | undefined;
    try {
      for (;;) {
        // As Flowgate's own poll does (src/temporal/engine.ts, watchRun): no deadline, the signal ends it;
        // Temporal answers when the run has new events, or empty after its own long-poll timeout.
        const res = await conn.withAbortSignal(signal, () =>
          conn.workflowService.getWorkflowExecutionHistory({
            namespace: source.namespace,
            execution: { workflowId: run.workflowId, runId: run.runId },
            nextPageToken,
            waitNewEvent: true,
            historyEventFilterType: HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT,
          }),
        );
        const at = now();
        for (const event of res.history?.events ?? []) {
          messages++;
          if (event.eventType !== EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED) continue;
          const payload = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[progressMemo];
          if (payload === undefined || payload === null) continue;
          // What a watcher does with a report: read it.
          defaultPayloadConverter.fromPayload(payload);
          progress.push([Number(event.eventId), rounded(at - toMs(event.eventTime))]);
        }
        if (first) {
          first = false;
          onFirst();
        }
        if (!res.nextPageToken?.length) return { progress, messages, ended: true };
        nextPageToken = res.nextPageToken;
      }
    } catch (err) {
      return { progress, messages, ended: false, error: messageOf(err) };
    }
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "") as WatchSpec;
  const { source } = spec;
  const watch =
    source.kind === "flowgate" ? await flowgateWatch(source, spec.connections) : await temporalWatch(source, spec.connections, spec.progressMemo);
  await emit({ event: "idle", rssBytes: process.memoryUsage.rss() });

  const total = spec.runs.length * spec.watchersPerRun;
  const started = performance.now();
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error(`still open after ${spec.timeoutS} s`)), spec.timeoutS * 1000);
  let settled = 0;
  const settle = () => {
    if (++settled === total) void emit({ event: "ready", seconds: (performance.now() - started) / 1000 });
  };
  // Watcher i watches run i / watchersPerRun on connection i % connections: each run's watchers are spread
  // over all the connections, and each connection carries watchers of every run.
  const watchers = Array.from({ length: total }, async (_, i): Promise<WatcherReport> => {
    const run = Math.floor(i / spec.watchersPerRun);
    let first = true;
    const onFirst = () => {
      if (!first) return;
      first = false;
      settle();
    };
    const report = await watch(spec.runs[run]!, i % spec.connections, onFirst, stop.signal);
    onFirst(); // a stream that failed before its first event must not hold "ready" back
    return { run, ...report };
  });
  const reports = await Promise.all(watchers);
  clearTimeout(timer);
  await emit({ event: "done", seconds: (performance.now() - started) / 1000, watchers: reports });
}

main().then(
  // Open HTTP/2 sessions and Temporal connections would keep the process alive; there is nothing to flush.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
