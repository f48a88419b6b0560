// Client certificates (mTLS) as a way to authenticate, beside API keys, on every protocol the auth matrix
// uses, over TLS on the one port: a verified certificate whose subject the clients file lists is its caller,
// with the scopes the file grants; one from another CA, one whose subject nobody listed, and none at all are
// unauthenticated, answered in the call's own protocol (not a failed handshake), each saying why. A header
// credential still works over the same TLS connection, and cleartext callers are untouched.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { Authenticator, declaredScopes, hashApiKey, loadApiKeys, loadClientCertificates } from "../../src/auth/index.js";
import { SERVICE_DESCRIPTORS } from "../../src/services/index.js";
import { issueCert, makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { PROTOCOLS, serviceClient, type ClientTls, type ProtocolName } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const SCOPES = declaredScopes(SERVICE_DESCRIPTORS);
const API_KEY = "fgk_tls_clients_0123456789abcdef01234567";

let certs: TestCerts;
let dir: string;
let server: TestServer;
/** What each kind of client presents. */
const presented: Record<string, ClientTls> = {};

beforeAll(async () => {
  certs = await makeTestCerts();
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-tls-clients-"));
  const stranger = await issueCert(certs, "stranger", { cn: "stranger", extensions: "extendedKeyUsage=clientAuth\n" });
  // Named by its SPIFFE id, as a service mesh names a workload; its CN is no one's.
  const writer = await issueCert(certs, "writer", {
    cn: "not-listed",
    extensions: "subjectAltName=URI:spiffe://flowgate.test/ns/billing/sa/writer\nextendedKeyUsage=clientAuth\n",
  });
  const ca = certs.ca.pem;
  presented["a listed certificate"] = { ca, cert: certs.clientCert.pem, key: certs.clientKey.pem };
  presented["a certificate listed by its SAN"] = { ca, cert: writer.cert.pem, key: writer.key.pem };
  presented["a certificate from another CA"] = { ca, cert: certs.otherClientCert.pem, key: certs.otherClientKey.pem };
  presented["a verified certificate nobody listed"] = { ca, cert: stranger.cert.pem, key: stranger.key.pem };
  presented["no certificate"] = { ca };

  // One file for both, as an operator may keep it: each loader reads only its own section.
  const file = path.join(dir, "callers.yaml");
  await writeFile(
    file,
    [
      "keys:",
      `  - {name: ops, sha256: ${hashApiKey(API_KEY)}, scopes: ["*"]}`,
      "clients:",
      "  - {name: reader, subject: flowgate-test-client, scopes: [workflows.read]}",
      '  - {name: writer, subject: "spiffe://flowgate.test/ns/billing/sa/writer", scopes: [workflows.read, workflows.write]}',
      "",
    ].join("\n"),
  );
  const authenticator = new Authenticator({ apiKeys: await loadApiKeys(file, SCOPES), clientCertificates: await loadClientCertificates(file, SCOPES) });
  server = await startTestServer({
    auth: { authenticator, publicParts: new Set(["health", "reflection", "metrics"]) },
    tls: { cert: certs.serverCert.pem, key: certs.serverKey.pem, clientCa: certs.ca.pem },
  });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(certs.dir, { recursive: true, force: true });
});

type Outcome = { code?: Code; message?: string };

/** An HTTPS request with `tls`'s CA and client certificate: status and JSON body. */
function httpsRequest(url: string, method: string, tls: ClientTls, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const req = https.request(url, { method, ...tls, agent: false, headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) } }, (res) => {
      res.setEncoding("utf8");
      let text = "";
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: text === "" ? undefined : (JSON.parse(text) as unknown) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** ListWorkflowTypes (scope workflows.read) or StartWorkflow (workflows.write) on `protocol`, presenting `tls`. */
async function call(protocol: ProtocolName, rpc: "ListWorkflowTypes" | "StartWorkflow", tls: ClientTls, headers: Record<string, string> = {}): Promise<Outcome> {
  if (protocol === "rest") {
    const res =
      rpc === "ListWorkflowTypes"
        ? await httpsRequest(`${server.baseUrl}/workflows/v1/types`, "GET", tls, headers)
        : await httpsRequest(`${server.baseUrl}/workflows/v1/start`, "POST", tls, headers, "{}");
    if (res.status < 300) return {};
    const error = res.body as { code: string; message: string };
    return { code: codeFromString(error.code), message: error.message };
  }
  const client = serviceClient(WorkflowService, protocol, server.baseUrl, tls);
  try {
    if (rpc === "ListWorkflowTypes") await client.listWorkflowTypes({}, { headers, timeoutMs: 10_000 });
    else await client.startWorkflow({}, { headers, timeoutMs: 10_000 });
    return {};
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
}

describe.each(PROTOCOLS)("client certificates over %s", (protocol) => {
  it("let a listed certificate call what its scopes allow", async () => {
    expect(await call(protocol, "ListWorkflowTypes", presented["a listed certificate"]!)).toEqual({});
  });

  it("refuse a listed certificate an RPC it has no scope for, naming the scope", async () => {
    expect(await call(protocol, "StartWorkflow", presented["a listed certificate"]!)).toEqual({
      code: Code.PermissionDenied,
      message: 'StartWorkflow needs the scope "workflows.write"; cert:reader has only workflows.read',
    });
  });

  it("match a certificate by its subject alternative name", async () => {
    // An empty start gets past authentication to validation: the caller was let in.
    expect(await call(protocol, "StartWorkflow", presented["a certificate listed by its SAN"]!)).toMatchObject({ code: Code.InvalidArgument });
  });

  it("refuse a certificate from another CA as unauthenticated, saying it is not trusted", async () => {
    const outcome = await call(protocol, "ListWorkflowTypes", presented["a certificate from another CA"]!);
    expect(outcome.code).toBe(Code.Unauthenticated);
    expect(outcome.message).toMatch(
      /^the client certificate "CN=flowgate-test-client" \(serial [0-9A-F]+\) is not trusted: it is not signed by a CA this server accepts client certificates from \([A-Z_]+\)$/,
    );
  });

  it("refuse a verified certificate whose subject nobody listed as unauthenticated", async () => {
    const outcome = await call(protocol, "ListWorkflowTypes", presented["a verified certificate nobody listed"]!);
    expect(outcome).toMatchObject({ code: Code.Unauthenticated });
    expect(outcome.message).toMatch(/^the client certificate "CN=stranger" \(serial [0-9A-F]+\) is verified, but no client with its subject is known here$/);
  });

  it("refuse a TLS call without a certificate or credential as unauthenticated, in the call's own protocol", async () => {
    expect(await call(protocol, "ListWorkflowTypes", presented["no certificate"]!)).toEqual({
      code: Code.Unauthenticated,
      message: 'missing credentials: send "Authorization: Bearer <API key or token>", or connect over TLS with a client certificate',
    });
  });

  it("still take an API key, over TLS with any certificate or none", async () => {
    const headers = { authorization: `Bearer ${API_KEY}` };
    expect(await call(protocol, "ListWorkflowTypes", presented["no certificate"]!, headers)).toEqual({});
    // The header's credential is the caller's, not the certificate's, even when the certificate proves nothing.
    expect(await call(protocol, "ListWorkflowTypes", presented["a certificate from another CA"]!, headers)).toEqual({});
  });
});

describe("client certificates on routes that are not RPCs", () => {
  it("authenticate the seed-compatible paths the same way", async () => {
    expect((await httpsRequest(`${server.baseUrl}/handlers`, "GET", presented["a listed certificate"]!)).status).toBe(200);
    expect(await httpsRequest(`${server.baseUrl}/handlers`, "GET", presented["a certificate from another CA"]!)).toMatchObject({
      status: 401,
      body: { code: "unauthenticated", message: expect.stringMatching(/is not trusted/) as unknown },
    });
    expect((await httpsRequest(`${server.baseUrl}/handlers`, "GET", presented["no certificate"]!)).status).toBe(401);
  });
});

describe("cleartext beside mTLS", () => {
  it("is untouched: h2c and HTTP/1.1 callers authenticate with their API key as before", async () => {
    const cleartext = server.baseUrl.replace("https:", "http:");
    const client = serviceClient(WorkflowService, "grpc", cleartext);
    await expect(client.listWorkflowTypes({}, { headers: { "x-api-key": API_KEY } })).resolves.toBeDefined();
    await expect(client.listWorkflowTypes({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    expect((await fetch(`${cleartext}/workflows/v1/types`, { headers: { "x-api-key": API_KEY } })).status).toBe(200);
  });
});
