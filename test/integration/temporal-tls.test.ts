// Flowgate on a secured cluster: TLS with a private CA, mTLS, and an API key, toward the run's dev server
// behind a TLS proxy that behaves as Temporal Cloud does. The API and the worker connect with the same
// settings; a wrong CA, a wrong key or a missing client certificate is a clear start-up failure.
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import net from "node:net";
import { fromJson, toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WorkflowStatus } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { openDatabase } from "../../src/database/index.js";
import { testFiles } from "../helpers/server.js";
import { createApp } from "../../src/app.js";
import { WorkflowRegistry } from "../../src/registry/index.js";
import { SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";
import { checkTemporal, createTemporalClient, type TemporalTarget } from "../../src/temporal/index.js";
import { startTestWorker } from "../helpers/worker.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { startTlsProxy, type TlsProxy } from "../helpers/tls-proxy.js";

const API_KEY = `key-${randomUUID()}`;

let certs: TestCerts;
let cloud: TlsProxy; // TLS + API key, as Temporal Cloud
let mtls: TlsProxy; // TLS + client certificate
beforeAll(async () => {
  certs = await makeTestCerts();
  const upstream = inject("temporalAddress");
  [cloud, mtls] = await Promise.all([
    startTlsProxy({ upstream, cert: certs.serverCert.pem, key: certs.serverKey.pem, apiKey: API_KEY }),
    startTlsProxy({ upstream, cert: certs.serverCert.pem, key: certs.serverKey.pem, clientCa: certs.ca.pem }),
  ]);
});
afterAll(async () => {
  await Promise.all([cloud?.close(), mtls?.close()]);
  if (certs) await rm(certs.dir, { recursive: true, force: true });
});

/** Runs `greet` end to end: a worker and the API, both on `target`, on a queue of their own. */
async function greetThrough(target: TemporalTarget): Promise<unknown> {
  const taskQueue = `tls-${randomUUID()}`;
  const worker = await startTestWorker({ ...target, taskQueue });
  const temporal = createTemporalClient(target);
  const database = await openDatabase({});
  const app = await createApp({
    config: { bodyLimitBytes: 65_536, taskQueue, runTimeoutMs: 20_000 },
    logger: pino({ level: "silent" }),
    temporal,
    registry: new WorkflowRegistry(SAMPLE_WORKFLOW_TYPES),
    database,
    files: testFiles(),
  });
  try {
    await app.listen({ host: "127.0.0.1", port: 0 });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const client = createClient(WorkflowService, createGrpcTransport({ baseUrl }));
    const res = await client.runWorkflow({ workflowType: "greet", input: fromJson(ValueSchema, { name: "Tls" }) });
    expect(res.status).toBe(WorkflowStatus.COMPLETED);
    return res.outcome.case === "result" ? toJson(ValueSchema, res.outcome.value) : undefined;
  } finally {
    await app.close();
    await temporal.close();
    await database.close();
    await worker.close();
  }
}

describe("a cluster with TLS and an API key (Temporal Cloud style)", () => {
  const target = (): TemporalTarget => ({ address: cloud.address, namespace: TEST_NAMESPACE, tls: { serverRootCACertificate: certs.ca.pem }, apiKey: API_KEY });

  it("serves workflows through it, the API and the worker both sending the key", { timeout: 60_000 }, async () => {
    const before = cloud.stats.relayed;
    expect(await greetThrough(target())).toEqual({ greeting: "Hello, Tls!" });
    expect(cloud.stats.relayed).toBeGreaterThan(before);
  });

  it("passes the start-up check", async () => {
    expect(await checkTemporal(target(), 10_000)).toEqual({ ok: true });
  });

  it("refuses a certificate from a CA it was not told to trust, saying which setting to check", async () => {
    const check = await checkTemporal({ ...target(), tls: { serverRootCACertificate: certs.otherCa.pem } }, 10_000);
    expect(check).toMatchObject({ ok: false, kind: "misconfigured" });
    expect(!check.ok && check.message).toMatch(new RegExp(`^Temporal at ${cloud.address}: TLS failed: .*certificate.*TEMPORAL_TLS_SERVER_CA_CERT_PATH`, "i"));
  });

  it("reports a wrong or missing API key as refused credentials", async () => {
    const refused = cloud.stats.refusedKey;
    for (const apiKey of ["wrong-key", undefined]) {
      const check = await checkTemporal({ ...target(), apiKey }, 10_000);
      expect(check).toMatchObject({ ok: false, kind: "misconfigured" });
      expect(!check.ok && check.message).toMatch(/refused Flowgate's credentials: .*invalid API key.*TEMPORAL_API_KEY/);
    }
    expect(cloud.stats.refusedKey).toBeGreaterThan(refused);
  });

  it("tells a plaintext client that the server wants TLS", async () => {
    const check = await checkTemporal({ address: cloud.address, namespace: TEST_NAMESPACE }, 5000);
    expect(check).toMatchObject({ ok: false, kind: "misconfigured" });
    expect(!check.ok && check.message).toBe(
      `Temporal at ${cloud.address} speaks TLS, but Flowgate connects in plaintext: set TEMPORAL_TLS=true (or TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA).`,
    );
  });

  it("tells an outage (worth waiting for) apart from a mistake", async () => {
    const check = await checkTemporal({ ...target(), address: "127.0.0.1:1" }, 5000);
    expect(check).toEqual({ ok: false, kind: "unreachable", message: "Temporal at 127.0.0.1:1 did not answer: nothing listens there (connection refused)" });
    // A server that drops every connection (a restarting load balancer) is an outage too, not a TLS mistake.
    const dropper = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dropper.listen(0, "127.0.0.1", resolve));
    try {
      const address = `127.0.0.1:${(dropper.address() as net.AddressInfo).port}`;
      const dropped = await checkTemporal({ ...target(), address }, 3000);
      expect(dropped).toMatchObject({ ok: false, kind: "unreachable" });
    } finally {
      dropper.close();
    }
  });

  it("does not stop start-up for a namespace that does not exist yet (a deployment may create it later)", async () => {
    const check = await checkTemporal({ ...target(), namespace: `later-${randomUUID()}` }, 5000);
    expect(check).toMatchObject({ ok: false, kind: "unreachable", message: expect.stringMatching(/has no namespace "later-.*" \(yet\).*Check TEMPORAL_NAMESPACE$/) });
  });
});

describe("a cluster with mTLS", () => {
  const target = (): TemporalTarget => ({
    address: mtls.address,
    namespace: TEST_NAMESPACE,
    tls: { serverRootCACertificate: certs.ca.pem, clientCertPair: { crt: certs.clientCert.pem, key: certs.clientKey.pem } },
  });

  it("serves workflows through it, the API and the worker both presenting the client certificate", { timeout: 60_000 }, async () => {
    expect(await greetThrough(target())).toEqual({ greeting: "Hello, Tls!" });
    expect([...mtls.stats.clientCertSubjects]).toEqual(["flowgate-test-client"]);
  });

  it("fails clearly without the client certificate", async () => {
    const check = await checkTemporal({ address: mtls.address, namespace: TEST_NAMESPACE, tls: { serverRootCACertificate: certs.ca.pem } }, 10_000);
    expect(check).toMatchObject({ ok: false, kind: "misconfigured" });
    expect(!check.ok && check.message).toMatch(/TLS failed: tlsv13 alert certificate required .*set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/);
  });
});
