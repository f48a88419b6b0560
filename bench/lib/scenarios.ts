// What is measured: each scenario is one operation, called through every target that can do it, so a row
// of the report differs from its scenario's baseline by the path the call takes and nothing else (the same
// workflow type, input, Temporal and worker).
import type { GhzCall } from "./ghz.js";
import type { ClientOperation, HttpStep } from "./protocol.js";
import type { Server, TemporalServer } from "./stack.js";

/** How a target is loaded. */
export type TargetLoad =
  /** autocannon (bench/load.ts) on the load generator's cores; `expect` checks the probe call's last body. */
  | { readonly kind: "http"; readonly baseUrl: string; readonly steps: readonly HttpStep[]; readonly expect: RegExp }
  /** ghz on the load generator's cores. */
  | { readonly kind: "grpc"; readonly call: GhzCall }
  /** A Temporal client in bench/load.ts, on the gateway's cores: the client process is its own gateway. */
  | { readonly kind: "client"; readonly connection: "grpc-js" | "native"; readonly operation: ClientOperation };

/** Whose CPU time and memory count as the gateway's for a target. */
export type GatewayProcess =
  | { readonly kind: "server"; readonly server: Server }
  /** A direct client: the load process does the work a gateway would. */
  | { readonly kind: "load process" }
  /** Temporal's own HTTP API is served inside the Temporal server: there is no gateway process to measure. */
  | { readonly kind: "none" };

export interface Target {
  readonly name: string;
  readonly load: TargetLoad;
  readonly gateway: GatewayProcess;
}

export interface Scenario {
  readonly id: (typeof SCENARIO_IDS)[number];
  readonly title: string;
  /** Callers in flight in each measured pass. */
  readonly passes: readonly number[];
  readonly targets: readonly Target[];
  /** The target every row is compared with. */
  readonly baseline: string;
  /** Rows also compared with a closer baseline: row name -> that baseline's name. */
  readonly peers?: Readonly<Record<string, string>>;
  /** Whether Temporal does work for each call (its CPU per call is reported). */
  readonly callsTemporal: boolean;
}

export interface Stack {
  readonly temporal: TemporalServer;
  readonly flowgate: Server & { readonly baseUrl: string; readonly address: string };
  readonly fastify: Server & { readonly baseUrl: string };
  readonly connect: Server & { readonly h2cAddress: string; readonly http1Url: string };
  /** The folder holding the vendored .proto files (ghz reads the contract from them). */
  readonly protoDir: string;
  /** A completed workflow, for the status scenario. */
  readonly statusWorkflowId: string;
}

/** Every scenario, in the order they run (BENCH_SCENARIOS picks some). */
export const SCENARIO_IDS = ["start", "run", "status", "health", "large"] as const;

/** The queue the worker polls: run-and-wait's workflows complete. */
export const RUN_QUEUE = "bench";
/** A queue nobody polls: started workflows stay put instead of giving the worker work during other windows. */
export const START_QUEUE = "bench-unpolled";

const WORKFLOW_SERVICE = "flowgate.workflow.v1.WorkflowService";
const WORKFLOW_PROTO = "flowgate/workflow/v1/workflow_service.proto";
const HEALTH_PROTO = "grpc/health/v1/health.proto";
const TEMPORAL_WORKFLOWS = "/api/v1/namespaces/default/workflows";

const json = (value: unknown) => JSON.stringify(value);
const input = { name: "Ada" };
/**
 * A large input, as JSON about 256 KiB (half of Temporal's default payload warning size) in 2,048 small
 * objects, the shape of a real order or batch. Started as a type no one registered (the gateway allows
 * them: no schema to check), on a queue no one polls, so the call differs from `start`'s by the body alone.
 */
const LARGE_TYPE = "bench_large";
const largeInput = {
  ...Object.fromEntries(Array.from({ length: 2048 }, (_, i) => [`field_${i}`, { sku: `sku-${i}`, quantity: i % 7, note: "x".repeat(80) }])),
};

export function buildScenarios(stack: Stack, concurrency: number): Scenario[] {
  const { temporal, flowgate, fastify, connect, protoDir } = stack;
  const flowgateProcess: GatewayProcess = { kind: "server", server: flowgate };
  const direct = (connection: "grpc-js" | "native", operation: ClientOperation): TargetLoad => ({ kind: "client", connection, operation });
  const temporalStart = (taskQueue: string): HttpStep => ({
    method: "POST",
    path: `${TEMPORAL_WORKFLOWS}/{id}`,
    // The dev server's HTTP API takes JSON payloads as they are ("payload shorthand").
    body: json({ workflowType: { name: "greet" }, taskQueue: { name: taskQueue }, input: [input], requestId: "{id}" }),
  });
  const rpc = (method: string, body: object) => ({ method: "POST" as const, path: `/${WORKFLOW_SERVICE}/${method}`, body: json(body) });
  const grpc = (address: string, proto: string, method: string, data: object): TargetLoad => ({
    kind: "grpc",
    call: { address, proto, importPath: protoDir, method, data },
  });
  const http = (baseUrl: string, expect: RegExp, ...steps: HttpStep[]): TargetLoad => ({ kind: "http", baseUrl, steps, expect });

  const startRequest = { workflowType: "greet", taskQueue: START_QUEUE, input };
  const runRequest = { workflowType: "greet", input };
  const statusRequest = { workflowId: stack.statusWorkflowId };

  return [
    {
      id: "start",
      title: "start: StartWorkflow (greet, on a queue nobody polls)",
      passes: concurrency === 1 ? [1] : [concurrency, 1],
      baseline: "direct @temporalio/client",
      callsTemporal: true,
      targets: [
        { name: "direct @temporalio/client", load: direct("grpc-js", { kind: "start", taskQueue: START_QUEUE }), gateway: { kind: "load process" } },
        { name: "direct client on NativeConnection", load: direct("native", { kind: "start", taskQueue: START_QUEUE }), gateway: { kind: "load process" } },
        { name: "Temporal HTTP API", load: http(temporal.httpUrl, /"runId"/, temporalStart(START_QUEUE)), gateway: { kind: "none" } },
        {
          name: "Flowgate REST",
          load: http(flowgate.baseUrl, /"run_id"/, { method: "POST", path: "/workflows/v1/start", body: json({ workflow_type: "greet", task_queue: START_QUEUE, input }) }),
          gateway: flowgateProcess,
        },
        { name: "Flowgate Connect JSON", load: http(flowgate.baseUrl, /"runId"/, rpc("StartWorkflow", startRequest)), gateway: flowgateProcess },
        { name: "Flowgate gRPC (h2c)", load: grpc(flowgate.address, WORKFLOW_PROTO, `${WORKFLOW_SERVICE}/StartWorkflow`, startRequest), gateway: flowgateProcess },
      ],
    },
    {
      id: "run",
      title: "run-and-wait: RunWorkflow (greet, run by the worker)",
      passes: [concurrency],
      baseline: "direct @temporalio/client",
      callsTemporal: true,
      targets: [
        { name: "direct @temporalio/client", load: direct("grpc-js", { kind: "run", taskQueue: RUN_QUEUE }), gateway: { kind: "load process" } },
        {
          // Temporal's HTTP API has no start-and-wait: a call is a start, then a long poll for the close event.
          name: "Temporal HTTP API (start + wait)",
          load: http(temporal.httpUrl, /Hello, Ada!/, temporalStart(RUN_QUEUE), {
            method: "GET",
            path: `${TEMPORAL_WORKFLOWS}/{id}/history?waitNewEvent=true&historyEventFilterType=HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT`,
          }),
          gateway: { kind: "none" },
        },
        {
          name: "Flowgate REST",
          load: http(flowgate.baseUrl, /Hello, Ada!/, { method: "POST", path: "/workflows/v1/run", body: json({ workflow_type: "greet", input }) }),
          gateway: flowgateProcess,
        },
        { name: "Flowgate Connect JSON", load: http(flowgate.baseUrl, /Hello, Ada!/, rpc("RunWorkflow", runRequest)), gateway: flowgateProcess },
        { name: "Flowgate gRPC (h2c)", load: grpc(flowgate.address, WORKFLOW_PROTO, `${WORKFLOW_SERVICE}/RunWorkflow`, runRequest), gateway: flowgateProcess },
      ],
    },
    {
      id: "status",
      title: "status: GetWorkflowStatus (one completed workflow)",
      passes: [concurrency],
      baseline: "direct @temporalio/client",
      callsTemporal: true,
      targets: [
        { name: "direct @temporalio/client", load: direct("grpc-js", { kind: "status", workflowId: stack.statusWorkflowId }), gateway: { kind: "load process" } },
        {
          name: "Temporal HTTP API",
          load: http(temporal.httpUrl, /WORKFLOW_EXECUTION_STATUS_COMPLETED/, { method: "GET", path: `${TEMPORAL_WORKFLOWS}/${stack.statusWorkflowId}` }),
          gateway: { kind: "none" },
        },
        {
          name: "Flowgate REST",
          load: http(flowgate.baseUrl, /WORKFLOW_STATUS_COMPLETED/, { method: "GET", path: `/workflows/v1/status/${stack.statusWorkflowId}` }),
          gateway: flowgateProcess,
        },
        { name: "Flowgate Connect JSON", load: http(flowgate.baseUrl, /WORKFLOW_STATUS_COMPLETED/, rpc("GetWorkflowStatus", statusRequest)), gateway: flowgateProcess },
        { name: "Flowgate gRPC (h2c)", load: grpc(flowgate.address, WORKFLOW_PROTO, `${WORKFLOW_SERVICE}/GetWorkflowStatus`, statusRequest), gateway: flowgateProcess },
      ],
    },
    {
      id: "large",
      title: `large: StartWorkflow with a ${Math.round(json(largeInput).length / 1024)} KiB JSON input (an unregistered type, on a queue nobody polls)`,
      passes: [concurrency],
      baseline: "direct @temporalio/client",
      peers: { "Flowgate REST": "bare Fastify POST, the same body parsed" },
      callsTemporal: true,
      targets: [
        {
          name: "direct @temporalio/client",
          load: direct("grpc-js", { kind: "start", taskQueue: START_QUEUE, workflowType: LARGE_TYPE, input: largeInput }),
          gateway: { kind: "load process" },
        },
        {
          name: "bare Fastify POST, the same body parsed",
          load: http(fastify.baseUrl, /"fields":2048/, { method: "POST", path: "/json-size", body: json({ workflow_type: LARGE_TYPE, task_queue: START_QUEUE, input: largeInput }) }),
          gateway: { kind: "server", server: fastify },
        },
        {
          name: "Flowgate REST",
          load: http(flowgate.baseUrl, /"run_id"/, { method: "POST", path: "/workflows/v1/start", body: json({ workflow_type: LARGE_TYPE, task_queue: START_QUEUE, input: largeInput }) }),
          gateway: flowgateProcess,
        },
        {
          name: "Flowgate Connect JSON",
          load: http(flowgate.baseUrl, /"runId"/, rpc("StartWorkflow", { workflowType: LARGE_TYPE, taskQueue: START_QUEUE, input: largeInput })),
          gateway: flowgateProcess,
        },
        {
          name: "Flowgate gRPC (h2c)",
          load: grpc(flowgate.address, WORKFLOW_PROTO, `${WORKFLOW_SERVICE}/StartWorkflow`, { workflowType: LARGE_TYPE, taskQueue: START_QUEUE, input: largeInput }),
          gateway: flowgateProcess,
        },
      ],
    },
    {
      id: "health",
      title: "health: liveness, no Temporal involved",
      passes: [concurrency],
      baseline: "bare Fastify GET /health/live",
      peers: {
        "Flowgate Health/Check, Connect JSON": "bare connect-node Health/Check, Connect JSON",
        "Flowgate Health/Check, gRPC (h2c)": "bare connect-node Health/Check, gRPC (h2c)",
      },
      callsTemporal: false,
      targets: [
        {
          name: "bare Fastify GET /health/live",
          load: http(fastify.baseUrl, /"status":"ok"/, { method: "GET", path: "/health/live" }),
          gateway: { kind: "server", server: fastify },
        },
        {
          name: "bare connect-node Health/Check, Connect JSON",
          load: http(connect.http1Url, /SERVING/, { method: "POST", path: "/grpc.health.v1.Health/Check", body: "{}" }),
          gateway: { kind: "server", server: connect },
        },
        {
          name: "bare connect-node Health/Check, gRPC (h2c)",
          load: grpc(connect.h2cAddress, HEALTH_PROTO, "grpc.health.v1.Health/Check", {}),
          gateway: { kind: "server", server: connect },
        },
        { name: "Flowgate GET /health/live", load: http(flowgate.baseUrl, /"status":"ok"/, { method: "GET", path: "/health/live" }), gateway: flowgateProcess },
        {
          name: "Flowgate Health/Check, Connect JSON",
          load: http(flowgate.baseUrl, /SERVING/, { method: "POST", path: "/grpc.health.v1.Health/Check", body: "{}" }),
          gateway: flowgateProcess,
        },
        { name: "Flowgate Health/Check, gRPC (h2c)", load: grpc(flowgate.address, HEALTH_PROTO, "grpc.health.v1.Health/Check", {}), gateway: flowgateProcess },
      ],
    },
  ];
}
