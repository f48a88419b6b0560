// A comparison target of `npm run bench:watch`: the least a Connect server on Node can do to stream a run's
// events to many watchers. A bare @connectrpc/connect-node server on HTTP/2 cleartext with one RPC,
// WorkflowService.WatchWorkflow; per run, one history long poll on @temporalio/client whose events are
// decoded once (Flowgate's decoder, src/temporal/history.ts) into one message each, kept in an array that
// every watcher of the run reads. No Fastify, no one-port listener, no interceptor, no validation, no
// resume, no access log: what is left is connect-node's and HTTP/2's cost per message sent, the floor under
// Flowgate's figure on the same machine.
//
//   node --import tsx bench/bare-watch.ts PORT TEMPORAL_ADDRESS
import http2 from "node:http2";
import type { Socket } from "node:net";
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate, ValueSchema } from "@bufbuild/protobuf/wkt";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Client, Connection } from "@temporalio/client";
import protos from "@temporalio/proto";
import { WorkflowEventType, ProgressSchema } from "../gen/flowgate/workflow/v1/workflow_pb.js";
import { WatchWorkflowResponseSchema, WorkflowService, type WatchWorkflowResponse } from "../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { WatchDecoder } from "../src/temporal/history.js";

const [port, temporalAddress] = [Number(process.argv[2]), process.argv[3]!];
const connection = await Connection.connect({ address: temporalAddress });
const client = new Client({ connection, namespace: "default" });

/** The close events: after one, a run has nothing more to say. */
const CLOSES = new Set<number>([WorkflowEventType.COMPLETED, WorkflowEventType.FAILED, WorkflowEventType.CANCELED, WorkflowEventType.TERMINATED, WorkflowEventType.TIMED_OUT]);

/** One run's messages so far, and the watchers waiting for the next. */
interface Tail {
  readonly messages: WatchWorkflowResponse[];
  done: boolean;
  waiting: (() => void)[];
}

const tails = new Map<string, Tail>();

function tailOf(workflowId: string, runId: string): Tail {
  const key = `${workflowId}/${runId}`;
  let tail = tails.get(key);
  if (tail === undefined) {
    const created: Tail = { messages: [], done: false, waiting: [] };
    tails.set(key, created);
    void poll(workflowId, runId, created);
    tail = created;
  }
  return tail;
}

async function poll(workflowId: string, runId: string, tail: Tail): Promise<void> {
  const decoder = new WatchDecoder(runId, client.options.loadedDataConverter);
  let nextPageToken: Uint8Array | undefined;
  do {
    const res = await connection.workflowService.getWorkflowExecutionHistory({
      namespace: "default",
      execution: { workflowId, runId },
      nextPageToken,
      waitNewEvent: true,
      historyEventFilterType: protos.temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT,
    });
    for (const event of res.history?.events ?? []) {
      for (const e of decoder.decode(event)) {
        tail.messages.push(
          create(WatchWorkflowResponseSchema, {
            eventId: BigInt(e.eventId),
            runId: e.runId,
            time: timestampFromDate(e.time),
            type: WorkflowEventType[e.type],
            name: e.name,
            attempt: e.attempt,
            // The same content as Flowgate's messages, so both encode as much per message.
            data: e.data === undefined ? undefined : fromJson(ValueSchema, e.data as JsonValue),
            progress: e.progress === undefined ? undefined : create(ProgressSchema, e.progress),
          }),
        );
      }
    }
    nextPageToken = res.nextPageToken?.length ? res.nextPageToken : undefined;
    if (nextPageToken === undefined) tail.done = true;
    const waiting = tail.waiting;
    tail.waiting = [];
    for (const wake of waiting) wake();
  } while (nextPageToken !== undefined);
}

const handler = connectNodeAdapter({
  routes: (router) =>
    router.service(WorkflowService, {
      async *watchWorkflow(req) {
        const tail = tailOf(req.workflowId, req.runId);
        const wanted = req.types.length === 0 ? undefined : new Set<number>(req.types);
        for (let next = 0; ; ) {
          while (next < tail.messages.length) {
            const message = tail.messages[next++]!;
            if (wanted === undefined || wanted.has(message.type) || CLOSES.has(message.type)) yield message;
          }
          if (tail.done) return;
          await new Promise<void>((resolve) => tail.waiting.push(resolve));
        }
      },
    }),
});

const server = http2.createServer(handler);
server.on("connection", (socket: Socket) => socket.setNoDelay(true));
await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
console.log("ready");
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));
