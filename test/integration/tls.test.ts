// TLS and cleartext on the one port, with certificates from a CA the clients trust: gRPC over h2, REST over
// HTTP/1.1 to a client that offers only http/1.1, HTTP/1.1 to a client that offers no ALPN at all, Connect
// over HTTPS/1.1, and h2c beside them. What each connection got is read on both ends: the client's
// negotiated ALPN and HTTP version, and the server's view of the same request.
import https from "node:https";
import { TLSSocket } from "node:tls";
import { rm } from "node:fs/promises";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { openDatabase } from "../../src/database/index.js";
import { testFiles } from "../helpers/server.js";
import { createApp } from "../../src/app.js";
import { WorkflowRegistry } from "../../src/registry/index.js";
import { createTemporalClient } from "../../src/temporal/index.js";
import { TEST_NAMESPACE, TEST_WORKFLOWS } from "../helpers/constants.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";

let certs: TestCerts;
let port: number;
let close: () => Promise<void>;
/** What the server saw of each request: its path, HTTP version, and the ALPN protocol of its TLS connection. */
const served: { url: string; httpVersion: string; alpn: string | false | null | undefined }[] = [];

beforeAll(async () => {
  certs = await makeTestCerts();
  const temporal = createTemporalClient({ address: inject("temporalAddress"), namespace: TEST_NAMESPACE });
  const database = await openDatabase({});
  const app = await createApp({
    config: { bodyLimitBytes: 65_536, taskQueue: "unused", runTimeoutMs: 5000 },
    logger: pino({ level: "silent" }),
    temporal,
    registry: new WorkflowRegistry(TEST_WORKFLOWS),
    tls: { cert: certs.serverCert.pem, key: certs.serverKey.pem },
    database,
    files: testFiles(),
  });
  app.addHook("onRequest", (req, _reply, done) => {
    const socket = req.raw.socket;
    served.push({ url: req.url, httpVersion: req.raw.httpVersion, alpn: socket instanceof TLSSocket ? socket.alpnProtocol : undefined });
    done();
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as { port: number }).port;
  close = async () => {
    await app.close();
    await temporal.close();
    await database.close();
  };
});

afterAll(async () => {
  await close?.();
  await rm(certs.dir, { recursive: true, force: true });
});

/** A GET over HTTPS with the given ALPN offer (undefined: none): status, body, HTTP version and the ALPN the client got. */
async function httpsGet(path: string, ALPNProtocols: string[] | undefined) {
  const agent = new https.Agent({ ca: certs.ca.pem, ALPNProtocols, keepAlive: false });
  try {
    return await new Promise<{ status: number; body: string; httpVersion: string; alpn: string | false | null }>((resolve, reject) => {
      https
        .get(`https://127.0.0.1:${port}${path}`, { agent }, (res) => {
          const alpn = (res.socket as TLSSocket).alpnProtocol;
          res.setEncoding("utf8");
          let body = "";
          res.on("data", (chunk: string) => (body += chunk));
          res.on("end", () => resolve({ status: res.statusCode!, body, httpVersion: res.httpVersion, alpn }));
        })
        .on("error", reject);
    });
  } finally {
    agent.destroy();
  }
}

describe("TLS beside cleartext on one port", () => {
  it("serves gRPC over h2, REST over HTTP/1.1 to a client offering http/1.1, and HTTP/1.1 to one offering no ALPN", async () => {
    // (a) gRPC: connect-node's gRPC transport, trusting the CA; it offers h2 by ALPN, as every gRPC client does.
    served.length = 0;
    const grpc = createClient(WorkflowService, createGrpcTransport({ baseUrl: `https://127.0.0.1:${port}`, nodeOptions: { ca: certs.ca.pem } }));
    const types = await grpc.listWorkflowTypes({});
    expect(types.workflowTypes.map((t) => t.name)).toContain("greet");
    expect(served).toEqual([{ url: "/flowgate.workflow.v1.WorkflowService/ListWorkflowTypes", httpVersion: "2.0", alpn: "h2" }]);

    // (b) REST from a client that offers only http/1.1.
    served.length = 0;
    const rest = await httpsGet("/workflows/v1/types", ["http/1.1"]);
    expect(rest).toMatchObject({ status: 200, httpVersion: "1.1", alpn: "http/1.1" });
    expect((JSON.parse(rest.body) as { workflow_types: { name: string }[] }).workflow_types.map((t) => t.name)).toContain("greet");
    expect(served).toEqual([{ url: "/workflows/v1/types", httpVersion: "1.1", alpn: "http/1.1" }]);

    // (c) A TLS client that offers no ALPN at all gets HTTP/1.1 (RFC 9113 section 3.3: h2 only by ALPN).
    served.length = 0;
    const bare = await httpsGet("/workflows/v1/types", undefined);
    expect(bare).toMatchObject({ status: 200, httpVersion: "1.1", alpn: false });
    expect(bare.body).toBe(rest.body);
    expect(served).toEqual([{ url: "/workflows/v1/types", httpVersion: "1.1", alpn: false }]);
  });

  it("serves Connect over HTTPS/1.1", async () => {
    const transport = createConnectTransport({ baseUrl: `https://127.0.0.1:${port}`, httpVersion: "1.1", nodeOptions: { ca: certs.ca.pem } });
    expect((await createClient(Health, transport).check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("still serves h2c and HTTP/1.1 in cleartext", async () => {
    const grpc = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
    expect((await grpc.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
  });

  it("refuses a client that does not trust the certificate", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: `https://127.0.0.1:${port}`, nodeOptions: { ca: certs.otherCa.pem } }));
    await expect(client.check({})).rejects.toThrow(/self[- ]signed|certificate/i);
  });
});
