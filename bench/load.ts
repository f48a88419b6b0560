// A load process of the benchmark (started by bench/run.ts, never by hand): it runs one target's warm-up and
// measured windows and reports them as JSON lines on stdout (see lib/protocol.ts).
//
// HTTP targets are loaded with autocannon, from the load generator's own cores. A direct Temporal client
// target is this process itself: it plays the part of the gateway (the work an app does when it embeds the
// SDK instead of calling Flowgate), so the runner pins it to the gateway's cores and measures its CPU.
//
// Each driver imports only what it uses, so a direct client's memory is that of an app with that client.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type autocannon from "autocannon";
import { summarize, type ClientOperation, type HttpStep, type LoadEvent, type LoadResult, type LoadSpec } from "./lib/protocol.js";

/** Runs calls with `concurrency` callers for `seconds` and reports the window. */
type Drive = (seconds: number, concurrency: number) => Promise<LoadResult>;

const MAX_ERROR_SAMPLES = 5;

function emit(event: LoadEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/**
 * autocannon, keeping every successful call's latency (autocannon's own summary has no p95). A call of
 * several steps (start, then wait) is one pass through `steps` on one connection; its latency is the sum
 * of its requests' response times.
 */
async function httpDriver(baseUrl: string, steps: readonly HttpStep[]): Promise<Drive> {
  const { default: autocannon } = await import("autocannon");
  const withId = (text: string, id: string) => text.replaceAll("{id}", encodeURIComponent(id));
  const requests = steps.map((step, index): autocannon.Request => ({
    method: step.method,
    headers: { "content-type": "application/json", ...step.headers },
    path: step.path,
    body: step.body,
    // Every call gets its own id (a workflow id, a request id); the steps of one call share it.
    setupRequest: (request, context: { id?: string }) => {
      if (index === 0) context.id = randomUUID();
      const id = context.id ?? randomUUID();
      return { ...request, path: withId(step.path, id), body: step.body === undefined ? undefined : step.body.replaceAll("{id}", id) };
    },
  }));
  return async (seconds, concurrency) => {
    const latencies: number[] = [];
    const errorSamples: string[] = [];
    let errors = 0;
    const noteError = (message: string) => {
      errors++;
      if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(message);
    };
    // Per connection: where it is in the steps of its current call, and the time spent so far.
    const progress = new Map<object, { step: number; ms: number; failedWith: number | undefined }>();
    const started = performance.now();
    let finished!: (err: Error | null) => void;
    const done = new Promise<void>((resolve, reject) => (finished = (err) => (err ? reject(err) : resolve())));
    const instance = autocannon({ url: baseUrl, connections: concurrency, duration: seconds, timeout: 30, requests }, finished);
    instance.on("response", (client, statusCode, _bytes, responseTime) => {
      const call = progress.get(client) ?? { step: 0, ms: 0, failedWith: undefined };
      progress.set(client, call);
      call.ms += responseTime;
      if (statusCode < 200 || statusCode > 299) call.failedWith ??= statusCode;
      if (++call.step < steps.length) return;
      if (call.failedWith === undefined) latencies.push(call.ms);
      else noteError(`HTTP ${call.failedWith}`);
      progress.set(client, { step: 0, ms: 0, failedWith: undefined });
    });
    instance.on("reqError", (err: Error) => noteError(err.message));
    await done;
    return summarize(latencies, errors, errorSamples, (performance.now() - started) / 1000);
  };
}

/** A Temporal client in this process, on grpc-js (@temporalio/client) or on the Rust core (NativeConnection). */
async function clientDriver(kind: "grpc-js" | "native", address: string, namespace: string, operation: ClientOperation): Promise<Drive> {
  const { Client, Connection } = await import("@temporalio/client");
  const connection =
    kind === "native" ? await (await import("@temporalio/worker")).NativeConnection.connect({ address }) : await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  const input = { name: "Ada" };
  const call: () => Promise<unknown> = (() => {
    switch (operation.kind) {
      case "start":
        return () =>
          client.workflow.start(operation.workflowType ?? "greet", { taskQueue: operation.taskQueue, workflowId: `bench-${randomUUID()}`, args: [operation.input ?? input] });
      case "run":
        return async () => {
          const result = (await client.workflow.execute("greet", { taskQueue: operation.taskQueue, workflowId: `bench-${randomUUID()}`, args: [input] })) as unknown;
          if ((result as { greeting?: string }).greeting !== "Hello, Ada!") throw new Error(`unexpected result ${JSON.stringify(result)}`);
        };
      case "status":
        return () => client.workflow.getHandle(operation.workflowId).describe();
    }
  })();
  // A misconfigured target fails here, once, instead of as a window full of errors.
  await call();
  return async (seconds, concurrency) => {
    const latencies: number[] = [];
    const errorSamples: string[] = [];
    let errors = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    // Callers stop starting calls at the deadline; calls still in flight then are let finish and counted.
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          try {
            await call();
            latencies.push(performance.now() - t0);
          } catch (err) {
            errors++;
            if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push((err as Error).message);
          }
        }
      }),
    );
    return summarize(latencies, errors, errorSamples, (performance.now() - started) / 1000);
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as LoadSpec;
  const { driver } = spec;
  const drive =
    driver.kind === "http" ? await httpDriver(driver.baseUrl, driver.steps) : await clientDriver(driver.connection, driver.address, driver.namespace, driver.operation);
  emit({ event: "ready" });
  // One warm-up, excluded from every measure: connections, JIT, the server's caches.
  await drive(spec.warmupS, spec.passes[0] ?? 1);
  for (const [pass, concurrency] of spec.passes.entries()) {
    emit({ event: "measure", pass });
    emit({ event: "done", pass, result: await drive(spec.durationS, concurrency) });
  }
}

main().then(
  // The Temporal connections would keep the process alive; there is nothing left to flush.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
