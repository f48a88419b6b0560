// Authentication and authorization on every RPC and every protocol, against a real Temporal: the matrix the
// issue asks for (no credentials, a bad key, an expired token, a valid token without the RPC's scope, a valid
// one), the paths that are not RPCs, the platform parts an operator may close, and who is recorded.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { create, fromJson, getOption, type DescMethod, type DescService, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scope as scopeOption } from "../../gen/flowgate/auth/v1/auth_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { Authenticator, declaredScopes, hashApiKey, JwtVerifier, loadApiKeys, type PlatformPart } from "../../src/auth/index.js";
import { SERVICE_DESCRIPTORS } from "../../src/services/index.js";
import { PROTOCOLS, serviceClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const json = (value: JsonValue) => fromJson(ValueSchema, value);
const SCOPES = declaredScopes(SERVICE_DESCRIPTORS);
const FULL_KEY = "fgk_full_0123456789abcdef0123456789abcdef";
const READER_KEY = "fgk_reader_0123456789abcdef0123456789abcd";

/** Each RPC's REST form, written from the contract's documented paths (not read from the server's tables). */
const REST: Readonly<Record<string, { method: string; path: string }>> = {
  StartWorkflow: { method: "POST", path: "/workflows/v1/start" },
  RunWorkflow: { method: "POST", path: "/workflows/v1/run" },
  GetWorkflowStatus: { method: "GET", path: "/workflows/v1/status/x" },
  GetWorkflowResult: { method: "GET", path: "/workflows/v1/result/x?wait=0s" },
  StopWorkflow: { method: "POST", path: "/workflows/v1/stop/x" },
  SignalWorkflow: { method: "POST", path: "/workflows/v1/signal/x/go" },
  QueryWorkflow: { method: "POST", path: "/workflows/v1/query/x/state" },
  UpdateWorkflow: { method: "POST", path: "/workflows/v1/update/x/set" },
  SignalWithStart: { method: "POST", path: "/workflows/v1/signal-with-start" },
  ListWorkflows: { method: "GET", path: "/workflows/v1/list" },
  CountWorkflows: { method: "GET", path: "/workflows/v1/count" },
  GetWorkflowHistory: { method: "GET", path: "/workflows/v1/history/x" },
  WatchWorkflow: { method: "GET", path: "/workflows/v1/events/x" },
  ListWorkflowTypes: { method: "GET", path: "/workflows/v1/types" },
  GetWorkflowType: { method: "GET", path: "/workflows/v1/types/greet" },
  UploadFile: { method: "POST", path: "/workflows/v1/file" },
  TestAuth: { method: "POST", path: "/workflows/v1/auth" },
  FetchMetadata: { method: "POST", path: "/workflows/v1/metadata" },
  PreflightCheck: { method: "POST", path: "/workflows/v1/check" },
  PublishEvent: { method: "POST", path: "/events/v1/event/e1" },
  DropEvent: { method: "POST", path: "/events/v1/drop" },
  ListTriggers: { method: "GET", path: "/events/v1/triggers" },
  ListSubscriptions: { method: "GET", path: "/dapr/subscribe" },
  GetConfig: { method: "GET", path: "/workflows/v1/config/c1" },
  UpdateConfig: { method: "POST", path: "/workflows/v1/config/c1" },
  ListConfigs: { method: "GET", path: "/workflows/v1/configs" },
  DeleteConfig: { method: "DELETE", path: "/workflows/v1/config/c1" },
  GetConfigMap: { method: "GET", path: "/workflows/v1/configmap/m1" },
};

const RPCS = SERVICE_DESCRIPTORS.flatMap((service) => service.methods.map((method) => ({ service, method })));

type Credential = "none" | "bad key" | "expired token" | "token without the scope" | "valid token";
const CREDENTIALS: readonly Credential[] = ["none", "bad key", "expired token", "token without the scope", "valid token"];

let dir: string;
let privateKey: CryptoKey;

async function token(scopes: readonly string[], expiresIn = 300, subject = "alice"): Promise<string> {
  return new SignJWT({ scope: scopes.join(" ") })
    .setProtectedHeader({ alg: "ES256", kid: "test" })
    .setIssuer("https://idp.test")
    .setAudience("flowgate")
    .setSubject(subject)
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn)
    .sign(privateKey);
}

async function authenticator(): Promise<Authenticator> {
  const keysFile = path.join(dir, "keys.yaml");
  await writeFile(
    keysFile,
    `keys:\n  - {name: full, sha256: ${hashApiKey(FULL_KEY)}, scopes: ["*"]}\n  - {name: reader, sha256: ${hashApiKey(READER_KEY)}, scopes: [workflows.read]}\n`,
  );
  const jwt = await JwtVerifier.create({ keysFile: path.join(dir, "jwks.json"), issuer: "https://idp.test", audience: "flowgate", clockSkewSeconds: 5 });
  return new Authenticator({ apiKeys: await loadApiKeys(keysFile, SCOPES), jwt });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-auth-"));
  const pair = await generateKeyPair("ES256");
  privateKey = pair.privateKey;
  await writeFile(path.join(dir, "jwks.json"), JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: "test", alg: "ES256" }] }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Calls `method` with an empty request; the Connect code it fails with, or undefined when it succeeds. */
async function callRpc(client: Client<DescService>, method: DescMethod, headers: Record<string, string>): Promise<{ code?: Code; message?: string }> {
  const call = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[method.localName]!;
  const options = { headers, timeoutMs: 10_000 };
  try {
    switch (method.methodKind) {
      case "unary":
        await call(create(method.input), options);
        break;
      case "server_streaming":
        for await (const _ of call(create(method.input), options) as AsyncIterable<unknown>) break;
        break;
      case "client_streaming":
        await call((async function* () {})(), options);
        break;
      default:
        throw new Error(`no bidi RPC is expected: ${method.name}`);
    }
    return {};
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
}

/** The same over the RPC's REST path: the Connect code of the error body, or undefined for a 2xx. */
async function callRest(baseUrl: string, method: DescMethod, headers: Record<string, string>): Promise<{ code?: Code; message?: string }> {
  const { method: verb, path: url } = REST[method.name]!;
  let body: string | FormData | undefined = verb === "GET" || verb === "DELETE" ? undefined : "{}";
  const sent: Record<string, string> = { ...headers };
  if (method.name === "UploadFile") {
    const form = new FormData();
    form.set("file", new Blob(["a,b\n"], { type: "text/csv" }), "x.csv");
    body = form;
  } else if (body !== undefined) {
    sent["content-type"] = "application/json";
  }
  const res = await fetch(baseUrl + url, { method: verb, headers: sent, body, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.ok) return {};
  const error = JSON.parse(text) as { code: string; message: string };
  return { code: codeFromString(error.code), message: error.message };
}

describe("with API keys and JWTs on", () => {
  let server: TestServer;
  const lines: Record<string, unknown>[] = [];
  const headersOf: Partial<Record<Credential, (scope: string) => Promise<Record<string, string>>>> = {};

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    server = await startTestServer({ auth: { authenticator: await authenticator(), publicParts: new Set<PlatformPart>(["health", "reflection", "metrics"]) }, logger: pino({ level: "info" }, sink) });
    const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
    headersOf.none = async () => ({});
    headersOf["bad key"] = async () => ({ "x-api-key": "fgk_not_a_key_anyone_was_given_000000000" });
    headersOf["expired token"] = async () => bearer(await token(SCOPES, -3600));
    headersOf["token without the scope"] = async (scope) => bearer(await token(SCOPES.filter((s) => s !== scope)));
    headersOf["valid token"] = async (scope) => bearer(await token([scope]));
  });
  afterAll(() => server?.close());

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it.each(CREDENTIALS)("answers every RPC called with %s as it should", async (credential) => {
      const results: string[] = [];
      const expected: string[] = [];
      for (const { service, method } of RPCS) {
        // A client stream needs HTTP/2 on the RPC protocols; over REST it is the multipart form.
        if (method.methodKind === "client_streaming" && (protocol === "grpc-web" || protocol === "connect-json")) continue;
        const scope = getOption(method, scopeOption);
        const headers = await headersOf[credential]!(scope);
        const { code, message } =
          protocol === "rest" ? await callRest(server.baseUrl, method, headers) : await callRpc(serviceClient(service, protocol, server.baseUrl), method, headers);
        const got = code === Code.Unauthenticated ? "unauthenticated" : code === Code.PermissionDenied ? "permission_denied" : "allowed";
        results.push(`${method.name}: ${got}`);
        if (credential === "none" || credential === "bad key" || credential === "expired token") expected.push(`${method.name}: unauthenticated`);
        else if (credential === "token without the scope") expected.push(`${method.name}: permission_denied`);
        else expected.push(`${method.name}: allowed`);
        // The multipart form is a route, not an RPC: its refusal names the route.
        const what = protocol === "rest" && method.name === "UploadFile" ? "POST /workflows/v1/file" : method.name;
        if (got === "permission_denied") expect(message).toBe(`${what} needs the scope "${scope}"; jwt:alice has only ${SCOPES.filter((s) => s !== scope).join(", ")}`);
        if (credential === "expired token") expect(message).toMatch(/^the token expired at /);
        if (credential === "bad key") expect(message).toBe("the API key is not valid");
      }
      expect(results).toEqual(expected);
    });
  });

  it("records the caller on the run it starts and on the call's log line", async () => {
    const client = createClient(WorkflowService, createGrpcTransport({ baseUrl: server.baseUrl }));
    const headers = { authorization: `Bearer ${FULL_KEY}` };
    const started = await client.startWorkflow({ workflowType: "greet", input: json({ name: "Ada" }) }, { headers });
    const status = await client.getWorkflowStatus({ workflowId: started.workflowId }, { headers });
    expect(status.memo?.["flowgate.caller"]).toBe("key:full");
    const line = lines.find((l) => l.rpc === "flowgate.workflow.v1.WorkflowService/StartWorkflow" && l.caller === "key:full");
    expect(line).toMatchObject({ msg: "request", caller: "key:full" });
    // A token's caller is its subject; the memo cannot be forged by the client (reserved keys are refused).
    const byToken = await client.startWorkflow({ workflowType: "greet", input: json({ name: "Bo" }) }, { headers: { authorization: `Bearer ${await token(["workflows.write"], 300, "bob@example.com")}` } });
    expect((await client.getWorkflowStatus({ workflowId: byToken.workflowId }, { headers })).memo?.["flowgate.caller"]).toBe("jwt:bob@example.com");
    const forged = await client
      .startWorkflow({ workflowType: "greet", input: json({ name: "Eve" }), options: { memo: { "flowgate.caller": json("key:root") } } }, { headers })
      .catch((e: unknown) => ConnectError.from(e));
    expect(forged).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/^options\.memo: key "flowgate\.caller" is reserved/) });
  });

  it("guards the seed-compatible paths with the scope of the RPC each does the work of", async () => {
    const get = (url: string, key?: string) => fetch(server.baseUrl + url, { headers: key ? { "x-api-key": key } : {} });
    expect((await get("/handlers")).status).toBe(401);
    expect((await get("/handlers", READER_KEY)).status).toBe(200);
    const cancel = await fetch(`${server.baseUrl}/handlers/x/cancel`, { method: "POST", headers: { "x-api-key": READER_KEY } });
    expect(cancel.status).toBe(403);
    expect(await cancel.json()).toEqual({ code: "permission_denied", message: 'POST /handlers/:handler_id/cancel needs the scope "workflows.admin"; key:reader has only workflows.read' });
    const start = await fetch(`${server.baseUrl}/workflows/greet/async`, { method: "POST", headers: { "x-api-key": FULL_KEY, "content-type": "application/json" }, body: JSON.stringify({ name: "Cy" }) });
    const { workflow_id } = (await start.json()) as { workflow_id: string };
    const client = createClient(WorkflowService, createGrpcTransport({ baseUrl: server.baseUrl }));
    expect((await client.getWorkflowStatus({ workflowId: workflow_id }, { headers: { "x-api-key": FULL_KEY } })).memo?.["flowgate.caller"]).toBe("key:full");
  });

  it("leaves health, reflection and metrics public by default", async () => {
    expect((await fetch(`${server.baseUrl}/health/live`)).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/metrics`)).status).toBe(200);
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
    await expect(health.check({})).resolves.toBeDefined();
  });
});

describe("with the platform parts closed (FLOWGATE_AUTH_PUBLIC=none)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ auth: { authenticator: await authenticator(), publicParts: new Set() } });
  });
  afterAll(() => server?.close());

  it("asks for credentials, but no scope, on metrics", async () => {
    expect((await fetch(`${server.baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${READER_KEY}` } })).status).toBe(200);
  });

  it("asks for credentials, but no scope, on health probes on every protocol", async () => {
    expect((await fetch(`${server.baseUrl}/health/live`)).status).toBe(401);
    expect((await fetch(`${server.baseUrl}/health/live`, { headers: { "x-api-key": READER_KEY } })).status).toBe(200);
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
    await expect(health.check({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(health.check({}, { headers: { "x-api-key": READER_KEY } })).resolves.toBeDefined();
  });
});
