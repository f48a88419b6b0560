// Certificates renewed while Flowgate runs, configured as an operator does (FLOWGATE_TLS_* variables through
// createFlowgate) and replaced as Kubernetes replaces a mounted Secret: new files in a new folder, then one
// rename of the `..data` symlink the file names go through. New connections get the new certificate; an
// open connection keeps its own and goes on serving; a pair that cannot be loaded is logged, naming the
// file, and the certificate before it stays served until a good one is written.
import { randomUUID, X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import tls from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WorkflowService } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { createFlowgate, type Flowgate } from "../../src/index.js";
import { issueServerCert, makeTestCerts, type Pem, type TestCerts } from "../helpers/certs.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { eventually } from "../helpers/eventually.js";

let certs: TestCerts;
let dir: string;
let flowgate: Flowgate;
let port: number;
const lines: Record<string, unknown>[] = [];
let generation = 0;

/** Puts a certificate and key in place the way the kubelet updates a mounted Secret: a symlink swap. */
async function publish(cert: Buffer, key: Buffer): Promise<void> {
  const folder = `..${++generation}_${randomUUID()}`;
  await mkdir(path.join(dir, folder));
  await writeFile(path.join(dir, folder, "tls.crt"), cert);
  await writeFile(path.join(dir, folder, "tls.key"), key);
  await symlink(folder, path.join(dir, "..data_tmp"));
  await rename(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
}

/** The serial of the certificate a new TLS connection gets. */
async function servedSerial(): Promise<string> {
  const socket = tls.connect({ host: "127.0.0.1", port, ca: certs.ca.pem });
  try {
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    return socket.getPeerCertificate().serialNumber;
  } finally {
    socket.destroy();
  }
}

const serialOf = (pem: Pem) => new X509Certificate(pem.pem).serialNumber;

beforeAll(async () => {
  certs = await makeTestCerts();
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-secret-"));
  await publish(certs.serverCert.pem, certs.serverKey.pem);
  await symlink("..data/tls.crt", path.join(dir, "tls.crt"));
  await symlink("..data/tls.key", path.join(dir, "tls.key"));
  const clientsFile = path.join(dir, "clients.yaml");
  await writeFile(clientsFile, "clients:\n  - name: test-client\n    subject: flowgate-test-client\n    scopes: [workflows.read]\n");
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  flowgate = createFlowgate({
    env: {
      FLOWGATE_TEMPORAL_ADDRESS: inject("temporalAddress"),
      FLOWGATE_TEMPORAL_NAMESPACE: TEST_NAMESPACE,
      FLOWGATE_DATA_DIR: path.join(dir, "data"),
      FLOWGATE_TLS_CERT_FILE: path.join(dir, "tls.crt"),
      FLOWGATE_TLS_KEY_FILE: path.join(dir, "tls.key"),
      FLOWGATE_TLS_CLIENT_CA_FILE: certs.ca.file,
      FLOWGATE_TLS_CLIENTS_FILE: clientsFile,
      FLOWGATE_TLS_RELOAD_INTERVAL: "100ms",
    },
    logger: pino({ level: "info" }, sink),
  });
  const app = await flowgate.build();
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as { port: number }).port;
});

afterAll(async () => {
  await flowgate?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(certs.dir, { recursive: true, force: true });
});

describe("certificates renewed on disk", () => {
  it("are served to new connections, while open ones keep theirs; a pair that cannot be loaded leaves the one before", async () => {
    const first = serialOf(certs.serverCert);
    expect(await servedSerial()).toBe(first);
    // A connection open before the renewal, kept open across it.
    const open = http2.connect(`https://127.0.0.1:${port}`, { ca: certs.ca.pem });
    const live = async () => {
      const stream = open.request({ ":path": "/health/live" });
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve));
      stream.resume();
      await new Promise((resolve) => stream.once("end", resolve));
      return headers[":status"];
    };
    try {
      expect(await live()).toBe(200);

      const renewed = await issueServerCert(certs, "renewed");
      await publish(renewed.cert.pem, renewed.key.pem);
      expect(await eventually(servedSerial, (serial) => serial === serialOf(renewed.cert))).toBe(serialOf(renewed.cert));
      expect(lines.find((l) => l.msg === "TLS certificate reloaded: new connections get it, open ones keep theirs")).toMatchObject({
        level: 30,
        serial: serialOf(renewed.cert),
        replaced: first,
      });
      // The connection from before still has the first certificate, and still serves.
      expect((open.socket as tls.TLSSocket).getPeerCertificate().serialNumber).toBe(first);
      expect(await live()).toBe(200);

      // A key that is not the certificate's: logged at warn, naming the files; the renewed one stays.
      const next = await issueServerCert(certs, "next");
      await publish(next.cert.pem, renewed.key.pem);
      const mismatch = await eventually(
        async () => lines.find((l) => typeof l.msg === "string" && l.msg.includes("is not the key of the certificate")),
        (line) => line !== undefined,
      );
      expect(mismatch).toMatchObject({ level: 40, file: path.join(dir, "tls.crt"), keyFile: path.join(dir, "tls.key") });
      expect(mismatch?.msg).toContain(`still serving the one before (serial ${serialOf(renewed.cert)}`);
      expect(await servedSerial()).toBe(serialOf(renewed.cert));

      // A half-written certificate: logged naming it; the renewed one still stays.
      await publish(next.cert.pem.subarray(0, next.cert.pem.length / 2), next.key.pem);
      const halfWritten = await eventually(
        async () => lines.find((l) => typeof l.msg === "string" && l.msg.includes("is not a PEM certificate")),
        (line) => line !== undefined,
      );
      expect(halfWritten).toMatchObject({ level: 40, file: path.join(dir, "tls.crt") });
      expect(await servedSerial()).toBe(serialOf(renewed.cert));

      // The next good pair is picked up.
      await publish(next.cert.pem, next.key.pem);
      expect(await eventually(servedSerial, (serial) => serial === serialOf(next.cert))).toBe(serialOf(next.cert));
      expect(await live()).toBe(200);
    } finally {
      open.close();
    }
  });

  it("authenticates a client certificate configured from the environment", async () => {
    const baseUrl = `https://127.0.0.1:${port}`;
    const withCert = createClient(
      WorkflowService,
      createGrpcTransport({ baseUrl, nodeOptions: { ca: certs.ca.pem, cert: certs.clientCert.pem, key: certs.clientKey.pem } }),
    );
    await expect(withCert.listWorkflowTypes({})).resolves.toBeDefined();
    const line = lines.find((l) => l.rpc === "flowgate.workflow.v1.WorkflowService/ListWorkflowTypes" && l.msg === "request");
    expect(line).toMatchObject({ caller: "cert:test-client", res: { statusCode: 200 } });
    const without = createClient(WorkflowService, createGrpcTransport({ baseUrl, nodeOptions: { ca: certs.ca.pem } }));
    await expect(without.listWorkflowTypes({})).rejects.toMatchObject({ rawMessage: expect.stringMatching(/^missing credentials: .*client certificate$/) });
  });
});
