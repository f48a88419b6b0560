// TLS and cleartext on the one port: gRPC over TLS (h2 by ALPN), Connect over HTTPS/1.1, and h2c beside them.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { openDatabase } from "../../src/database/index.js";
import { testFiles } from "../helpers/server.js";
import { createApp } from "../../src/app.js";
import { WorkflowRegistry } from "../../src/registry/index.js";
import { createTemporalClient } from "../../src/temporal/index.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";

const run = promisify(execFile);

let dir: string;
let cert: Buffer;
let port: number;
let close: () => Promise<void>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-tls-"));
  const [certFile, keyFile] = [path.join(dir, "cert.pem"), path.join(dir, "key.pem")];
  await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyFile, "-out", certFile,
  ]);
  cert = await readFile(certFile);
  const temporal = createTemporalClient({ address: inject("temporalAddress"), namespace: TEST_NAMESPACE });
  const database = await openDatabase({});
  const app = await createApp({
    config: { bodyLimitBytes: 65_536, taskQueue: "unused", runTimeoutMs: 5000 },
    logger: pino({ level: "silent" }),
    temporal,
    registry: new WorkflowRegistry([]),
    tls: { cert, key: await readFile(keyFile) },
    database,
    files: testFiles(),
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
  await rm(dir, { recursive: true, force: true });
});

describe("TLS beside cleartext on one port", () => {
  it("serves gRPC over TLS", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: `https://127.0.0.1:${port}`, nodeOptions: { ca: cert } }));
    expect((await client.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("serves Connect over HTTPS/1.1", async () => {
    const transport = createConnectTransport({ baseUrl: `https://127.0.0.1:${port}`, httpVersion: "1.1", nodeOptions: { ca: cert } });
    expect((await createClient(Health, transport).check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("still serves h2c and HTTP/1.1 in cleartext", async () => {
    const grpc = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
    expect((await grpc.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
  });

  it("refuses a client that does not trust the certificate", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: `https://127.0.0.1:${port}` }));
    await expect(client.check({})).rejects.toThrow(/self[- ]signed|certificate/i);
  });
});
