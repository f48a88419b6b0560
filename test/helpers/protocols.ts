// One WorkflowService client per protocol, all with the same typed surface, so a test can assert the same
// results and the same errors on each. REST is called on its documented paths with fetch, not derived from
// the server's own tables.
import { create, fromJson, toJson, type DescMessage, type DescService, type JsonObject, type JsonValue, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type CallOptions, type Client } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  ConfigService,
  DeleteConfigResponseSchema,
  GetConfigMapResponseSchema,
  GetConfigResponseSchema,
  ListConfigsResponseSchema,
  UpdateConfigRequestSchema,
  UpdateConfigResponseSchema,
} from "../../gen/flowgate/config/v1/config_service_pb.js";
import { CloudEventSchema } from "../../gen/flowgate/events/v1/events_pb.js";
import {
  DropEventResponseSchema,
  EventsService,
  ListSubscriptionsResponseSchema,
  ListTriggersResponseSchema,
  PublishEventResponseSchema,
} from "../../gen/flowgate/events/v1/events_service_pb.js";
import { WorkflowTypeSchema } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import {
  CountWorkflowsRequestSchema,
  CountWorkflowsResponseSchema,
  FetchMetadataResponseSchema,
  PreflightCheckResponseSchema,
  TestAuthResponseSchema,
  GetWorkflowHistoryRequestSchema,
  GetWorkflowHistoryResponseSchema,
  ListWorkflowsRequestSchema,
  ListWorkflowsResponseSchema,
  QueryWorkflowRequestSchema,
  QueryWorkflowResponseSchema,
  SignalWithStartRequestSchema,
  SignalWithStartResponseSchema,
  SignalWorkflowRequestSchema,
  SignalWorkflowResponseSchema,
  UpdateWorkflowRequestSchema,
  UpdateWorkflowResponseSchema,
  GetWorkflowTypeResponseSchema,
  ListWorkflowTypesResponseSchema,
  GetWorkflowResultRequestSchema,
  GetWorkflowResultResponseSchema,
  GetWorkflowStatusRequestSchema,
  GetWorkflowStatusResponseSchema,
  RunWorkflowRequestSchema,
  RunWorkflowResponseSchema,
  StartWorkflowRequestSchema,
  StartWorkflowResponseSchema,
  StopWorkflowRequestSchema,
  StopWorkflowResponseSchema,
  WorkflowService,
} from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";

export type ProtocolName = "grpc" | "grpc-web" | "connect-json" | "connect-binary" | "rest";
export const PROTOCOLS: readonly ProtocolName[] = ["grpc", "grpc-web", "connect-json", "connect-binary", "rest"];

/** Every RPC a REST path serves: not the streams (watchWorkflow has its own REST form, uploadFile is multipart). */
type WorkflowClient = Omit<Client<typeof WorkflowService>, "watchWorkflow" | "uploadFile">;

/** A generated client on one of the four protocols Connect speaks (every RPC, streams included). */
export function connectClient(protocol: Exclude<ProtocolName, "rest">, baseUrl: string): Client<typeof WorkflowService> {
  return serviceClient(WorkflowService, protocol, baseUrl);
}

/** What an https:// client trusts and presents: the server's CA, and a client certificate and key (mTLS). */
export interface ClientTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** A generated client of any served service on one of the four protocols Connect speaks (over TLS with `tls`). */
export function serviceClient<S extends DescService>(service: S, protocol: Exclude<ProtocolName, "rest">, baseUrl: string, tls: ClientTls = {}): Client<S> {
  const nodeOptions = { ...tls };
  switch (protocol) {
    case "grpc":
      return createClient(service, createGrpcTransport({ baseUrl, nodeOptions }));
    case "grpc-web":
      return createClient(service, createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions }));
    case "connect-json":
      return createClient(service, createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions }));
    case "connect-binary":
      // Over HTTP/2 (h2c), so Connect is exercised on both HTTP versions.
      return createClient(service, createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, nodeOptions }));
  }
}

/** ConfigService on one protocol; on REST, its documented paths (the call's headers go along: If-Match). */
export function configClient(protocol: ProtocolName, baseUrl: string): Client<typeof ConfigService> {
  if (protocol !== "rest") return serviceClient(ConfigService, protocol, baseUrl);
  const configPath = (id: string) => `/workflows/v1/config/${encodeURIComponent(id)}`;
  return {
    getConfig: (req, o) => restCall(baseUrl, "GET", configPath(req.configId ?? ""), GetConfigResponseSchema, undefined, o),
    updateConfig: (req, o) => {
      const body = toJson(UpdateConfigRequestSchema, create(UpdateConfigRequestSchema, req), { useProtoFieldName: true }) as JsonObject;
      delete body.config_id;
      return restCall(baseUrl, "POST", configPath(req.configId ?? ""), UpdateConfigResponseSchema, body, o);
    },
    listConfigs: (req, o) => {
      const params = new URLSearchParams();
      if (req.pageSize) params.set("page_size", String(req.pageSize));
      if (req.pageToken) params.set("page_token", req.pageToken);
      if (req.prefix) params.set("prefix", req.prefix);
      return restCall(baseUrl, "GET", `/workflows/v1/configs?${params.toString()}`, ListConfigsResponseSchema, undefined, o);
    },
    deleteConfig: (req, o) => {
      const version = req.expectedVersion === undefined ? "" : `?expected_version=${req.expectedVersion}`;
      return restCall(baseUrl, "DELETE", configPath(req.configId ?? "") + version, DeleteConfigResponseSchema, undefined, o);
    },
    getConfigMap: (req, o) =>
      restCall(baseUrl, "GET", `/workflows/v1/configmap/${encodeURIComponent(req.configMapId ?? "")}`, GetConfigMapResponseSchema, undefined, o),
  };
}

/** EventsService on one protocol; on REST, its documented paths. */
export function eventsClient(protocol: ProtocolName, baseUrl: string): Client<typeof EventsService> {
  if (protocol !== "rest") return serviceClient(EventsService, protocol, baseUrl);
  const eventJson = (event: MessageInitShape<typeof CloudEventSchema> | undefined) =>
    event === undefined ? undefined : (toJson(CloudEventSchema, create(CloudEventSchema, event), { useProtoFieldName: true }) as JsonObject);
  return {
    publishEvent: (req, o) => {
      // The path needs a segment: the request's event_id, else the event's own id.
      const id = req.eventId || req.event?.id || "";
      return restCall(baseUrl, "POST", `/events/v1/event/${encodeURIComponent(id)}`, PublishEventResponseSchema, eventJson(req.event) ?? {}, o);
    },
    dropEvent: (req, o) => restCall(baseUrl, "POST", "/events/v1/drop", DropEventResponseSchema, eventJson(req.event) ?? {}, o),
    listTriggers: (_req, o) => restCall(baseUrl, "GET", "/events/v1/triggers", ListTriggersResponseSchema, undefined, o),
    listSubscriptions: async (_req, o) => {
      // REST answers with the bare array Dapr reads (response_body).
      const res = await fetch(`${baseUrl}/dapr/subscribe`, { signal: o?.signal });
      const subscriptions = (await res.json()) as JsonValue[];
      if (!Array.isArray(subscriptions)) throw new Error(`GET /dapr/subscribe: not a JSON array: ${JSON.stringify(subscriptions)}`);
      return fromJson(ListSubscriptionsResponseSchema, { subscriptions });
    },
  };
}

export function workflowClient(protocol: ProtocolName, baseUrl: string): WorkflowClient {
  return protocol === "rest" ? restClient(baseUrl) : connectClient(protocol, baseUrl);
}

/** A REST failure: the Connect error, plus the HTTP status and body the server sent. */
export class RestError extends ConnectError {
  constructor(
    message: string,
    code: Code,
    readonly status: number,
    readonly body: JsonObject,
  ) {
    super(message, code);
  }
}

/** One REST call on its documented path: the JSON body in, the response message out, errors as RestError. */
async function restCall<O extends DescMessage>(
  baseUrl: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  output: O,
  body: JsonValue | undefined,
  options: CallOptions | undefined,
): Promise<MessageShape<O>> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options?.timeoutMs !== undefined) headers["connect-timeout-ms"] = String(options.timeoutMs);
  for (const [name, value] of new Headers(options?.headers).entries()) headers[name] = value;
  const res = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as JsonObject;
  if (!res.ok) {
    const error = json as { code?: string; message?: string };
    throw new RestError(error.message ?? "", codeFromString(error.code ?? "") ?? Code.Unknown, res.status, json);
  }
  options?.onHeader?.(res.headers);
  // REST answers with the proto field names, as the seed APIs did.
  for (const key of Object.keys(json)) {
    if (/[A-Z]/.test(key)) throw new Error(`REST response key "${key}" is not a proto field name`);
  }
  return fromJson(output, json);
}

function restClient(baseUrl: string): WorkflowClient {
  const call = <O extends DescMessage>(method: "GET" | "POST", path: string, output: O, body: JsonObject | undefined, options: CallOptions | undefined) =>
    restCall(baseUrl, method, path, output, body, options);
  const query = (fields: JsonObject) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) {
      // Query parameters are scalars: strings, numbers (int64 as strings), booleans, enum names.
      if (value !== undefined && value !== null && value !== "" && typeof value !== "object") params.set(key, String(value));
    }
    const text = params.toString();
    return text === "" ? "" : `?${text}`;
  };
  /** The request's JSON without the fields the path carries. */
  const bodyOf = <D extends DescMessage>(schema: D, init: MessageInitShape<D> | undefined, inPath: readonly string[]) => {
    const json = snake(schema, init);
    for (const field of inPath) delete json[field];
    return json;
  };
  const runPath = (id: string, runId: string) => `/${encodeURIComponent(id)}${runId ? `/${encodeURIComponent(runId)}` : ""}`;
  const snake = <D extends DescMessage>(schema: D, init: MessageInitShape<D> | undefined) =>
    toJson(schema, create(schema, init), { useProtoFieldName: true }) as JsonObject;
  return {
    startWorkflow: (req, o) => call("POST", "/workflows/v1/start", StartWorkflowResponseSchema, snake(StartWorkflowRequestSchema, req), o),
    runWorkflow: (req, o) => call("POST", "/workflows/v1/run", RunWorkflowResponseSchema, snake(RunWorkflowRequestSchema, req), o),
    getWorkflowStatus: (req, o) => {
      const r = create(GetWorkflowStatusRequestSchema, req);
      return call("GET", `/workflows/v1/status${runPath(r.workflowId, r.runId)}`, GetWorkflowStatusResponseSchema, undefined, o);
    },
    getWorkflowResult: (req, o) => {
      const r = create(GetWorkflowResultRequestSchema, req);
      const wait = r.wait ? `?wait=${Number(r.wait.seconds) + r.wait.nanos / 1e9}s` : "";
      return call("GET", `/workflows/v1/result${runPath(r.workflowId, r.runId)}${wait}`, GetWorkflowResultResponseSchema, undefined, o);
    },
    stopWorkflow: (req, o) => {
      const r = create(StopWorkflowRequestSchema, req);
      const body = snake(StopWorkflowRequestSchema, { terminate: r.terminate, reason: r.reason });
      return call("POST", `/workflows/v1/stop${runPath(r.workflowId, r.runId)}`, StopWorkflowResponseSchema, body, o);
    },
    signalWorkflow: (req, o) => {
      const r = create(SignalWorkflowRequestSchema, req);
      const path = `/workflows/v1/signal/${encodeURIComponent(r.workflowId)}/${encodeURIComponent(r.signalName)}`;
      return call("POST", path, SignalWorkflowResponseSchema, bodyOf(SignalWorkflowRequestSchema, req, ["workflow_id", "signal_name"]), o);
    },
    queryWorkflow: (req, o) => {
      const r = create(QueryWorkflowRequestSchema, req);
      const path = `/workflows/v1/query/${encodeURIComponent(r.workflowId)}/${encodeURIComponent(r.queryName)}`;
      return call("POST", path, QueryWorkflowResponseSchema, bodyOf(QueryWorkflowRequestSchema, req, ["workflow_id", "query_name"]), o);
    },
    updateWorkflow: (req, o) => {
      const r = create(UpdateWorkflowRequestSchema, req);
      const path = `/workflows/v1/update/${encodeURIComponent(r.workflowId)}/${encodeURIComponent(r.updateName)}`;
      return call("POST", path, UpdateWorkflowResponseSchema, bodyOf(UpdateWorkflowRequestSchema, req, ["workflow_id", "update_name"]), o);
    },
    signalWithStart: (req, o) =>
      call("POST", "/workflows/v1/signal-with-start", SignalWithStartResponseSchema, snake(SignalWithStartRequestSchema, req), o),
    listWorkflows: (req, o) =>
      call("GET", `/workflows/v1/list${query(snake(ListWorkflowsRequestSchema, req))}`, ListWorkflowsResponseSchema, undefined, o),
    countWorkflows: (req, o) =>
      call("GET", `/workflows/v1/count${query(snake(CountWorkflowsRequestSchema, req))}`, CountWorkflowsResponseSchema, undefined, o),
    getWorkflowHistory: (req, o) => {
      const r = create(GetWorkflowHistoryRequestSchema, req);
      const page = query({ page_size: r.pageSize || undefined, page_token: r.pageToken } as JsonObject);
      return call("GET", `/workflows/v1/history${runPath(r.workflowId, r.runId)}${page}`, GetWorkflowHistoryResponseSchema, undefined, o);
    },
    listWorkflowTypes: (_req, o) => call("GET", "/workflows/v1/types", ListWorkflowTypesResponseSchema, undefined, o),
    testAuth: (req, o) => restCall(baseUrl, "POST", "/workflows/v1/auth", TestAuthResponseSchema, req.payload ?? {}, o),
    fetchMetadata: (req, o) => restCall(baseUrl, "POST", "/workflows/v1/metadata", FetchMetadataResponseSchema, req.payload ?? {}, o),
    preflightCheck: (req, o) => restCall(baseUrl, "POST", "/workflows/v1/check", PreflightCheckResponseSchema, req.payload ?? {}, o),
    getWorkflowType: async (req, o) => {
      // REST answers with the type itself (response_body), not wrapped in the response message.
      const type = await call("GET", `/workflows/v1/types/${encodeURIComponent(req.name ?? "")}`, WorkflowTypeSchema, undefined, o);
      return create(GetWorkflowTypeResponseSchema, { workflowType: type });
    },
  };
}

/** ConnectError's own instanceof is duck-typed (any ConnectError would pass), so REST errors are told by field. */
export function isRestError(err: ConnectError): err is RestError {
  return typeof (err as Partial<RestError>).status === "number" && (err as Partial<RestError>).body !== undefined;
}

/** The ConnectError a call failed with (fails the test when the call succeeds). */
export async function callError(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail, but it succeeded");
}
