// A user's own workflows on their own, secured cluster, as `npm start` runs it: a Temporal Cloud-style
// endpoint (TLS with a private CA, and an API key) in front of the run's dev server; a Python worker of the
// user's own; a workflow-types file; and the embedded worker running the user's TypeScript workflows and
// activities against the same cluster with the same settings. On every protocol: discover, start, refuse a
// bad input, signal-free runs and reads. A wrong CA or key stops start-up, naming the setting.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WorkflowStatus } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { cleanEnv, runFlowgateToExit, startFlowgate, stopAllFlowgates, type FlowgateProcess } from "../helpers/flowgate-process.js";
import { callError, configClient, eventsClient, PROTOCOLS, workflowClient } from "../helpers/protocols.js";
import { startTlsProxy, type TlsProxy } from "../helpers/tls-proxy.js";
import { ensurePythonTemporal, freePort, REPO_ROOT } from "../helpers/tools.js";

const API_KEY = `cloud-key-${randomUUID()}`;
const ORDERS_QUEUE = `orders-${randomUUID()}`;
const FLOWGATE_QUEUE = `flowgate-${randomUUID()}`;

let dir: string;
let certs: TestCerts;
let cloud: TlsProxy;
let python: ChildProcess | undefined;
let flowgate: FlowgateProcess;
/** The TEMPORAL_* variables a user of such a cluster sets, for Flowgate and their own worker alike. */
let clusterEnv: Record<string, string>;

const TYPES = (ordersQueue: string) => `
workflows:
  - name: OrderWorkflow
    description: Places an order and waits for payment (a Python worker runs it).
    task_queue: ${ordersQueue}
    input:
      type: object
      required: [order_id, items]
      properties:
        order_id: { type: string, minLength: 1 }
        wait_for_payment: { type: boolean }
        items:
          type: array
          minItems: 1
          items:
            type: object
            required: [sku, quantity, price]
            properties: { sku: { type: string }, quantity: { type: integer, minimum: 1 }, price: { type: number, minimum: 0 } }
    signals:
      - name: paid
        input: { type: object, properties: { receipt: { type: string } } }
  - name: quote
    description: Prices an order line (the embedded worker runs it, with its activity).
    input:
      type: object
      required: [sku, quantity]
      properties: { sku: { enum: [tea, cup] }, quantity: { type: integer, minimum: 1 } }
      additionalProperties: false
triggers:
  - id: quote-requested
    workflow: quote
    types: [shop.quote.requested]
    conditions: [{ path: data.line.quantity, exists: true }]
    input: data.line
config_maps:
  quote: { type: object, properties: { currency: { enum: [EUR, USD] } } }
`;

beforeAll(async () => {
  const [pythonPath, madeCerts] = await Promise.all([ensurePythonTemporal(), makeTestCerts()]);
  certs = madeCerts;
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-own-cluster-"));
  cloud = await startTlsProxy({ upstream: inject("temporalAddress"), cert: certs.serverCert.pem, key: certs.serverKey.pem, apiKey: API_KEY });
  clusterEnv = {
    TEMPORAL_ADDRESS: cloud.address,
    TEMPORAL_NAMESPACE: TEST_NAMESPACE,
    TEMPORAL_API_KEY: API_KEY,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca.file,
  };

  // The user's own worker, in Python.
  python = spawn("python3", [path.join(REPO_ROOT, "test/fixtures/python/order_worker.py")], {
    env: { ...cleanEnv(clusterEnv), PYTHONPATH: pythonPath, ORDERS_TASK_QUEUE: ORDERS_QUEUE },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pythonOutput: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Python worker did not start:\n${pythonOutput.join("\n")}`)), 60_000);
    for (const stream of [python!.stdout!, python!.stderr!]) {
      readline.createInterface({ input: stream }).on("line", (line) => {
        pythonOutput.push(line);
        if (line.includes("python worker polling")) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    python!.once("exit", (code) => reject(new Error(`the Python worker exited with ${code}:\n${pythonOutput.join("\n")}`)));
  });

  const typesFile = path.join(dir, "flowgate.workflows.yaml");
  await writeFile(typesFile, TYPES(ORDERS_QUEUE));
  flowgate = await startFlowgate(
    cleanEnv({
      ...clusterEnv,
      FLOWGATE_PORT: String(await freePort()),
      FLOWGATE_DATA_DIR: path.join(dir, ".flowgate"),
      FLOWGATE_TASK_QUEUE: FLOWGATE_QUEUE,
      FLOWGATE_START_WORKER: "true",
      FLOWGATE_WORKER_WORKFLOWS: path.join(REPO_ROOT, "test/fixtures/user/workflows.ts"),
      FLOWGATE_WORKER_ACTIVITIES: path.join(REPO_ROOT, "test/fixtures/user/activities.ts"),
      FLOWGATE_HANDLER: path.join(REPO_ROOT, "test/fixtures/user/handler.ts"),
    }),
    { cwd: dir },
  );
}, 600_000);

afterAll(async () => {
  await stopAllFlowgates();
  python?.kill("SIGTERM");
  await cloud?.close();
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  if (certs) await rm(certs.dir, { recursive: true, force: true });
});

const json = (value: JsonValue) => fromJson(ValueSchema, value);
const order = (id: string) => ({ order_id: id, items: [{ sku: "tea", quantity: 3, price: 4 }, { sku: "cup", quantity: 1, price: 12 }] });

describe("npm start on a cluster with TLS and an API key", () => {
  it("connects with both, and becomes ready once its worker polls", { timeout: 60_000 }, async () => {
    expect(flowgate.output.join("\n")).toMatch(/"tls":true,"apiKey":true/);
    let ready: Response | undefined;
    for (let i = 0; i < 120 && ready?.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      ready = await fetch(`${flowgate.baseUrl}/health/ready`);
    }
    expect(await ready?.json()).toEqual({ status: "ok", temporal: "reachable", worker: "polling" });
    expect(cloud.stats.refusedKey).toBe(0);
    expect(cloud.stats.relayed).toBeGreaterThan(0);
  });

  it("shows the user's types, and only those, with their schemas", async () => {
    const res = await fetch(`${flowgate.baseUrl}/workflows/v1/types`);
    const body = (await res.json()) as { workflow_types: { name: string; task_queue: string; input_schema: unknown; signals: { name: string }[] }[] };
    expect(body.workflow_types.map((t) => [t.name, t.task_queue])).toEqual([
      ["OrderWorkflow", ORDERS_QUEUE],
      ["quote", FLOWGATE_QUEUE],
    ]);
    expect(body.workflow_types[0]?.input_schema).toMatchObject({ required: ["order_id", "items"] });
    expect(body.workflow_types[0]?.signals.map((s) => s.name)).toEqual(["paid"]);
  });

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    const client = () => workflowClient(protocol, flowgate.baseUrl);

    it("runs the Python worker's workflow to its result", { timeout: 60_000 }, async () => {
      const res = await client().runWorkflow({ workflowType: "OrderWorkflow", input: json(order(`o-${protocol}`)) });
      expect(res.status).toBe(WorkflowStatus.COMPLETED);
      expect(res.outcome.case === "result" && toJson(ValueSchema, res.outcome.value)).toEqual({ order_id: `o-${protocol}`, total: 24, receipt: null, worker: "python" });
    });

    it("starts one, reads its status, and stops it", { timeout: 60_000 }, async () => {
      const { workflowId, runId } = await client().startWorkflow({
        workflowType: "OrderWorkflow",
        workflowId: `waiting-${protocol}-${randomUUID()}`,
        input: json({ ...order("w-1"), wait_for_payment: true }),
      });
      const status = await client().getWorkflowStatus({ workflowId, runId });
      expect(status).toMatchObject({ workflowType: "OrderWorkflow", taskQueue: ORDERS_QUEUE, status: WorkflowStatus.RUNNING });
      const waiting = await client().getWorkflowResult({ workflowId, wait: durationFromMs(500) });
      expect(waiting.status).toBe(WorkflowStatus.RUNNING);
      await client().stopWorkflow({ workflowId, reason: "test done" });
      expect((await client().getWorkflowResult({ workflowId, wait: durationFromMs(20_000) })).status).toBe(WorkflowStatus.CANCELED);
    });

    it("runs the user's TypeScript workflow and activity in the embedded worker", { timeout: 60_000 }, async () => {
      const res = await client().runWorkflow({ workflowType: "quote", input: json({ sku: "cup", quantity: 2 }) });
      expect(res.outcome.case === "result" && toJson(ValueSchema, res.outcome.value)).toEqual({ sku: "cup", total: 24 });
    });

    it("calls the user's TypeScript handler (FLOWGATE_HANDLER) with the payload, and maps its refusal", async () => {
      const ok = await client().testAuth({ payload: { username: "ada", password: "secret" } });
      expect([ok.success, ok.message, ok.data && toJson(ValueSchema, ok.data)]).toEqual([true, "credentials work", { user: "ada" }]);
      const refused = await callError(client().testAuth({ payload: { username: "ada", password: "guess" } }));
      expect([refused.code, refused.rawMessage]).toEqual([Code.FailedPrecondition, "user ada: wrong password"]);
      const metadata = await client().fetchMetadata({ payload: { database: "shop" } });
      expect(metadata.data && toJson(ValueSchema, metadata.data)).toEqual([{ database: "shop", schemas: ["public", "sales"] }]);
      const missing = await callError(client().preflightCheck({ payload: {} }));
      expect([missing.code, missing.rawMessage]).toEqual([Code.Unimplemented, "the application's handler has no preflightCheck"]);
    });

    it("starts the file's trigger's workflow from an event, and serves the file's config map", { timeout: 60_000 }, async () => {
      const id = `quote-${protocol}-${randomUUID()}`;
      const res = await eventsClient(protocol, flowgate.baseUrl).publishEvent({
        event: { id, type: "shop.quote.requested", data: json({ line: { sku: "tea", quantity: 3 } }) },
      });
      expect(res.fired.map((f) => [f.triggerId, f.workflowId])).toEqual([["quote-requested", `quote-requested:${id}`]]);
      const result = await client().getWorkflowResult({ workflowId: `quote-requested:${id}`, wait: durationFromMs(30_000) });
      expect(result.outcome.case === "result" && toJson(ValueSchema, result.outcome.value)).toEqual({ sku: "tea", total: 12 });
      const map = await configClient(protocol, flowgate.baseUrl).getConfigMap({ configMapId: "quote" });
      expect(map.configMap).toEqual({ type: "object", properties: { currency: { enum: ["EUR", "USD"] } } });
    });

    it("refuses bad input at the edge, naming the path, for both workers' types", async () => {
      const bad = await callError(client().startWorkflow({ workflowType: "OrderWorkflow", input: json({ order_id: "x", items: [{ sku: "tea", quantity: 0, price: 1 }] }) }));
      expect([bad.code, bad.rawMessage]).toEqual([Code.InvalidArgument, "input.items[0].quantity: must be >= 1"]);
      const unknownSku = await callError(client().runWorkflow({ workflowType: "quote", input: json({ sku: "mug", quantity: 1 }) }));
      expect([unknownSku.code, unknownSku.rawMessage]).toEqual([Code.InvalidArgument, 'input.sku: must be one of ["tea","cup"]']);
      const unregistered = await callError(client().startWorkflow({ workflowType: "greet", input: json({ name: "A" }) }));
      expect(unregistered.rawMessage).toBe('workflow_type: "greet" is not a registered workflow type (registered: OrderWorkflow, quote)');
    });
  });
});

describe("npm start refuses a cluster it cannot trust or that refuses it", () => {
  it.each([
    ["an untrusted CA", () => ({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.otherCa.file }), /TLS failed: .*certificate.*The server's certificate is not signed by a CA Flowgate trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH/],
    ["a wrong API key", () => ({ TEMPORAL_API_KEY: "not-the-key" }), /refused Flowgate's credentials: Request unauthorized: invalid API key\. Check TEMPORAL_API_KEY/],
  ])("%s: exits 2 before starting anything, naming the setting", { timeout: 60_000 }, async (_what, change, message) => {
    const { code, output } = await runFlowgateToExit(
      cleanEnv({ ...clusterEnv, ...change(), FLOWGATE_PORT: String(await freePort()), FLOWGATE_DATA_DIR: path.join(dir, "refused") }),
      dir,
    );
    expect(code).toBe(2);
    expect(output).toMatch(new RegExp(`^flowgate: invalid configuration: Temporal at ${cloud.address}`, "m"));
    expect(output).toMatch(message);
  });
});
