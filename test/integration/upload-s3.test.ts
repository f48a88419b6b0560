// UploadFile into an S3 bucket, the served mode's store, against a real S3 API server (s3proxy): files are
// streamed in as multipart uploads, checked on the way, and a refused or cut-off upload leaves neither an
// object nor an unfinished multipart upload behind. FLOWGATE_FILES_URL alone switches the library to it.
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CreateBucketCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { UploadFileRequestSchema, WorkflowService, type UploadFileRequest } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { S3FileStore } from "../../src/files/s3.js";
import { createFlowgate } from "../../src/index.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { callError, serviceClient } from "../helpers/protocols.js";
import { startS3Server, type S3Server } from "../helpers/s3proxy.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const LIMIT = 8 * 1024 * 1024;
const BUCKET = "uploads";
let s3: S3Server;
let client: S3Client;
let server: TestServer;
beforeAll(async () => {
  s3 = await startS3Server();
  client = new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const store = new S3FileStore(client, { bucket: BUCKET, prefix: "files/" }, { maxBytes: LIMIT, types: [], idleMs: 2000 });
  server = await startTestServer({ files: { store, maxBytes: LIMIT } });
}, 120_000);
afterAll(async () => {
  await server?.close();
  client?.destroy();
  await s3?.close();
});

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
/** Every object in the bucket, and every multipart upload not completed or aborted. */
async function bucketState() {
  const objects = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return { objects: (objects.Contents ?? []).map((o) => o.Key).sort(), unfinished: (uploads.Uploads ?? []).map((u) => u.Key) };
}
async function objectBytes(key: string) {
  const res = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { bytes: Buffer.from(await res.Body!.transformToByteArray()), contentType: res.ContentType };
}
const noise = (n: number) => new Uint8Array(n).map((_, i) => (i * 7919) % 251);

async function* messages(...parts: NonNullable<MessageInitShape<typeof UploadFileRequestSchema>["part"]>[]): AsyncIterable<UploadFileRequest> {
  for (const part of parts) yield create(UploadFileRequestSchema, { part });
}

describe("UploadFile into an S3 bucket", () => {
  it("stores a multipart form's file as an object, with its media type", async () => {
    const csv = new TextEncoder().encode("sku,qty\ntea,2\n");
    const form = new FormData();
    form.append("file", new Blob([csv], { type: "text/csv" }), "orders.csv");
    const res = await fetch(`${server.baseUrl}/workflows/v1/file`, { method: "POST", body: form });
    const body = (await res.json()) as Record<string, string>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ size: String(csv.byteLength), sha256: sha256(csv), filename: "orders.csv" });
    expect(body.key).toMatch(/^files\/[0-9a-f-]{36}\/orders\.csv$/);
    expect(await objectBytes(body.key!)).toEqual({ bytes: Buffer.from(csv), contentType: "text/csv" });
  });

  it("streams a file larger than one part (7 MiB in 64 KiB messages) over gRPC", async () => {
    const file = noise(7 * 1024 * 1024);
    const pieces = Array.from({ length: file.byteLength / 65_000 + 1 }, (_, i) => file.subarray(i * 65_000, (i + 1) * 65_000)).filter((p) => p.byteLength > 0);
    const stored = await serviceClient(WorkflowService, "grpc", server.baseUrl).uploadFile(
      messages({ case: "info", value: { filename: "big.bin" } }, ...pieces.map((value) => ({ case: "chunk" as const, value }))),
    );
    expect(stored).toMatchObject({ size: BigInt(file.byteLength), sha256: sha256(file) });
    expect(sha256((await objectBytes(stored.key)).bytes)).toBe(sha256(file));
  });

  it("refuses a file over the limit with 413, leaving no object and no unfinished upload", async () => {
    const before = await bucketState();
    const form = new FormData();
    form.append("file", new Blob([noise(LIMIT + 1)]), "too-big.bin");
    const res = await fetch(`${server.baseUrl}/workflows/v1/file`, { method: "POST", body: form });
    expect(res.status).toBe(413);
    expect(await bucketState()).toEqual(before);
  });

  it("keeps nothing of an upload the client cuts off", async () => {
    const before = await bucketState();
    const abort = new AbortController();
    async function* cutOff(): AsyncIterable<UploadFileRequest> {
      yield create(UploadFileRequestSchema, { part: { case: "info", value: { filename: "cut.bin" } } });
      yield create(UploadFileRequestSchema, { part: { case: "chunk", value: noise(60_000) } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      abort.abort();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
    const err = await callError(serviceClient(WorkflowService, "grpc", server.baseUrl).uploadFile(cutOff(), { signal: abort.signal }));
    expect(err.code).toBe(Code.Canceled);
    await expect.poll(bucketState, { timeout: 8000 }).toEqual(before);
  });

  it("is what the library stores into when FLOWGATE_FILES_URL names a bucket", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "flowgate-s3-app-"));
    const flowgate = createFlowgate({
      env: {
        FLOWGATE_TEMPORAL_ADDRESS: inject("temporalAddress"),
        FLOWGATE_TEMPORAL_NAMESPACE: TEST_NAMESPACE,
        FLOWGATE_DATA_DIR: dataDir,
        FLOWGATE_LOG_LEVEL: "silent",
        FLOWGATE_FILES_URL: `s3://${BUCKET}/app`,
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
    });
    try {
      const app = await flowgate.build();
      await app.listen({ host: "127.0.0.1", port: 0 });
      const form = new FormData();
      form.append("file", new Blob(["hello"], { type: "text/plain" }), `note-${randomUUID()}.txt`);
      const res = await fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/workflows/v1/file`, { method: "POST", body: form });
      const body = (await res.json()) as { key: string };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.key).toMatch(/^app\//);
      expect((await objectBytes(body.key)).bytes.toString()).toBe("hello");
    } finally {
      await flowgate.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
