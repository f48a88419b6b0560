// StartWorkflow latency and throughput through Flowgate (gRPC, Connect, REST) against a direct
// @temporalio/client start, all on one fresh in-memory Temporal dev server, in one run.
//
//   npm run bench                      # defaults
//   BENCH_STARTS=1000 BENCH_CONCURRENCY=32 npm run bench
//
// Each mode: a warm-up, then BENCH_STARTS sequential starts (latency p50 / p99), then BENCH_STARTS starts
// with BENCH_CONCURRENCY in flight (starts per second). The modes run in turn, twice, and the better of
// the two rounds is kept, so the first mode does not pay for the server's warm-up.
import { randomUUID } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { WorkflowService } from "../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { createApp } from "../src/app.js";
import { WorkflowRegistry } from "../src/registry/index.js";
import { SAMPLE_WORKFLOW_TYPES } from "../src/samples/index.js";
import { ensureTemporalCli, startDevServer } from "../src/embedded/index.js";
import { createTemporalClient, waitForTemporal } from "../src/temporal/index.js";

const STARTS = Number(process.env.BENCH_STARTS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WARMUP = 50;
/** No worker polls this queue: the benchmark measures starts, not executions. */
const TASK_QUEUE = "bench";

type StartFn = () => Promise<unknown>;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(start: StartFn) {
  for (let i = 0; i < WARMUP; i++) await start();
  const latencies: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t0 = performance.now();
    await start();
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < STARTS) await start();
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSecond: STARTS / seconds };
}

async function main(): Promise<void> {
  const log = pino({ level: "warn" });
  const cli = await ensureTemporalCli({ override: process.env.TEMPORAL_CLI || undefined, toolsDir: path.resolve(".flowgate/tools"), log });
  const devServer = await startDevServer({ cli, port: await freePort(), uiPort: 0, dbFile: undefined, namespace: "default", log });
  const temporal = createTemporalClient({ address: devServer.address, namespace: "default" });
  const app = await createApp({
    config: { bodyLimitBytes: 4 << 20, taskQueue: TASK_QUEUE, runTimeoutMs: 60_000 },
    logger: pino({ level: "silent" }),
    temporal,
    registry: new WorkflowRegistry(SAMPLE_WORKFLOW_TYPES),
  });
  try {
    await waitForTemporal({ address: devServer.address, namespace: "default" }, 60_000);
    await app.listen({ host: "127.0.0.1", port: 0 });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`;

    // The baseline: the same client Flowgate uses, in this process, one Connection.
    const direct = createTemporalClient({ address: devServer.address, namespace: "default" });
    const input = { name: "Ada" };
    const grpc = createClient(WorkflowService, createGrpcTransport({ baseUrl }));
    const connect = createClient(WorkflowService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    const value = fromJson(ValueSchema, input);
    const restBody = JSON.stringify({ workflow_type: "greet", input });

    const modes: Record<string, StartFn> = {
      "direct @temporalio/client": () =>
        direct.client.workflow.start("greet", { taskQueue: TASK_QUEUE, workflowId: `bench-${randomUUID()}`, args: [input] }),
      "Flowgate gRPC (h2c)": () => grpc.startWorkflow({ workflowType: "greet", input: value }),
      "Flowgate Connect JSON (HTTP/1.1)": () => connect.startWorkflow({ workflowType: "greet", input: value }),
      "Flowgate REST (HTTP/1.1)": async () => {
        const res = await fetch(`${baseUrl}/workflows/v1/start`, { method: "POST", body: restBody });
        if (!res.ok) throw new Error(`REST start failed: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      },
    };

    const best = new Map<string, Awaited<ReturnType<typeof measure>>>();
    for (let round = 1; round <= 2; round++) {
      for (const [name, start] of Object.entries(modes)) {
        const r = await measure(start);
        const prev = best.get(name);
        if (prev === undefined || r.p50 < prev.p50) best.set(name, { ...r, perSecond: Math.max(r.perSecond, prev?.perSecond ?? 0) });
        process.stderr.write(`round ${round}: ${name} done\n`);
      }
    }
    await direct.close();

    const base = best.get("direct @temporalio/client")!;
    console.log(`\nStartWorkflow: ${STARTS} sequential starts (latency), ${STARTS} with ${CONCURRENCY} in flight (throughput)\n`);
    console.log("| mode | p50 ms | p99 ms | starts/s | p50 vs direct | starts/s vs direct |");
    console.log("|---|---:|---:|---:|---:|---:|");
    for (const [name, r] of best) {
      console.log(
        `| ${name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.perSecond.toFixed(0)} | ${(r.p50 / base.p50).toFixed(2)}x | ${(r.perSecond / base.perSecond).toFixed(2)}x |`,
      );
    }
  } finally {
    await app.close();
    await temporal.close();
    await devServer.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
