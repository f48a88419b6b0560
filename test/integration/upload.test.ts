// UploadFile: multipart over REST (browsers, curl) and client-streaming over gRPC and Connect. Files are
// streamed to the store, checked against the limits on the way, and kept only when complete: a file over
// the limit, or cut off mid-way, leaves nothing behind. A 200 MB upload keeps the process's memory flat.
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UploadFileRequestSchema, WorkflowService, type UploadFileRequest } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { callError, serviceClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const LIMIT = 1024 * 1024;
let server: TestServer;
let big: TestServer;
beforeAll(async () => {
  [server, big] = await Promise.all([
    startTestServer({ uploads: { maxBytes: LIMIT, types: ["text/csv", "application/json", "image/*"], idleMs: 2000 } }),
    startTestServer({ uploads: { maxBytes: 512 * 1024 * 1024 } }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.close(), big?.close()]);
});

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Every file under the store's folder (the partial-upload folder included), relative. */
async function storedFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

async function postForm(baseUrl: string, form: FormData) {
  const res = await fetch(`${baseUrl}/workflows/v1/file`, { method: "POST", body: form });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe("POST /workflows/v1/file (multipart)", () => {
  it("stores the file and answers its key, size and SHA-256", async () => {
    const csv = new TextEncoder().encode("sku,qty\ntea,2\ncup,1\n");
    const form = new FormData();
    form.append("file", new Blob([csv], { type: "text/csv" }), "orders.csv");
    const { status, body } = await postForm(server.baseUrl, form);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ size: String(csv.byteLength), sha256: sha256(csv), filename: "orders.csv", content_type: "text/csv" });
    expect(body.key).toMatch(/^[0-9a-f-]{36}\/orders\.csv$/);
    expect(await readFile(path.join(server.filesDir, body.key!))).toEqual(Buffer.from(csv));
  });

  it("refuses a file over the limit with 413 and keeps nothing of it", async () => {
    const before = await storedFiles(server.filesDir);
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(LIMIT + 1)], { type: "image/png" }), "big.png");
    const { status, body } = await postForm(server.baseUrl, form);
    expect(status).toBe(413);
    expect(body).toEqual({ code: "resource_exhausted", message: `the file is larger than this server accepts (${LIMIT} bytes); nothing was stored` });
    expect(await storedFiles(server.filesDir)).toEqual(before);
  });

  it("refuses a type not accepted, a form without the file, and a body that is no form, with 400", async () => {
    const pdf = new FormData();
    pdf.append("file", new Blob(["%PDF"], { type: "application/pdf" }), "a.pdf");
    expect(await postForm(server.baseUrl, pdf)).toEqual({
      status: 400,
      body: { code: "invalid_argument", message: 'content_type: "application/pdf" is not accepted here (accepted: text/csv, application/json, image/*)' },
    });
    const misnamed = new FormData();
    misnamed.append("upload", new Blob(["a,b"], { type: "text/csv" }), "a.csv");
    expect((await postForm(server.baseUrl, misnamed)).body.message).toBe('file: the form\'s file is in the field "upload", not "file"');
    const json = await fetch(`${server.baseUrl}/workflows/v1/file`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(json.status).toBe(400);
    const empty = new FormData();
    empty.append("file", new Blob([], { type: "text/csv" }), "empty.csv");
    expect(await postForm(server.baseUrl, empty)).toEqual({ status: 400, body: { code: "invalid_argument", message: "file: is empty" } });
  });

  it("streams a 200 MB upload to disk with the process's memory flat", async () => {
    const total = 200 * 1024 * 1024;
    const chunk = new Uint8Array(256 * 1024).map((_, i) => i % 251);
    const boundary = "flowgate-test-boundary";
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
    const hash = createHash("sha256");
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(head),
      pull: (controller) => {
        if (sent >= total) {
          controller.enqueue(tail);
          controller.close();
          return;
        }
        hash.update(chunk);
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const res = await fetch(`${big.baseUrl}/workflows/v1/file`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: "half",
    });
    clearInterval(sampler);
    const answer = (await res.json()) as Record<string, string>;
    expect(res.status, JSON.stringify(answer)).toBe(200);
    expect(answer).toMatchObject({ size: String(total), sha256: hash.digest("hex") });
    expect((await stat(path.join(big.filesDir, answer.key!))).size).toBe(total);
    const growthMb = (peak - before) / 1024 / 1024;
    console.info(`200 MB upload: RSS ${Math.round(before / 1048576)} MB -> peak ${Math.round(peak / 1048576)} MB`);
    // The client, the server and the disk writes share this process: a buffered upload would add 200 MB+.
    expect(growthMb, "RSS growth during a 200 MB upload (MB)").toBeLessThan(64);
  }, 120_000);
});

describe.each(["grpc", "connect-binary"] as const)("UploadFile over %s (client streaming)", (protocol) => {
  const client = () => serviceClient(WorkflowService, protocol, server.baseUrl);
  async function* messages(...parts: NonNullable<MessageInitShape<typeof UploadFileRequestSchema>["part"]>[]): AsyncIterable<UploadFileRequest> {
    for (const part of parts) yield create(UploadFileRequestSchema, { part });
  }

  it("stores the chunks in order", async () => {
    const parts = ["sku,qty\n", "tea,2\n", "cup,1\n"].map((t) => new TextEncoder().encode(t));
    const res = await client().uploadFile(
      messages({ case: "info", value: { filename: "lines.csv", contentType: "text/csv" } }, ...parts.map((value) => ({ case: "chunk" as const, value }))),
    );
    const all = Buffer.concat(parts);
    expect(res).toMatchObject({ size: BigInt(all.byteLength), sha256: sha256(all), filename: "lines.csv", contentType: "text/csv" });
    expect(await readFile(path.join(server.filesDir, res.key))).toEqual(all);
  });

  it("refuses an upload that does not start with the file's info", async () => {
    const err = await callError(client().uploadFile(messages({ case: "chunk", value: new Uint8Array([1]) })));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^info: the first message of an upload must carry the file's info/);
  });

  it("refuses a file over the limit with ResourceExhausted, keeping nothing", async () => {
    const before = await storedFiles(server.filesDir);
    // 40 messages of 32 KiB (the test server reads messages of up to 64 KiB): 1.25 MiB in all.
    const piece = new Uint8Array(32 * 1024);
    const err = await callError(
      client().uploadFile(messages({ case: "info", value: { filename: "big.bin", contentType: "image/png" } }, ...Array.from({ length: 40 }, () => ({ case: "chunk" as const, value: piece })))),
    );
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(await storedFiles(server.filesDir)).toEqual(before);
  });

  it("keeps nothing of an upload the client cuts off", async () => {
    const before = await storedFiles(server.filesDir);
    const abort = new AbortController();
    async function* cutOff(): AsyncIterable<UploadFileRequest> {
      yield create(UploadFileRequestSchema, { part: { case: "info", value: { filename: "cut.csv", contentType: "text/csv" } } });
      yield create(UploadFileRequestSchema, { part: { case: "chunk", value: new Uint8Array(1000) } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      abort.abort();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
    const err = await callError(client().uploadFile(cutOff(), { signal: abort.signal }));
    expect(err.code).toBe(Code.Canceled);
    // The server learns of it a moment later (over the Connect protocol only when no bytes came for the idle
    // limit, 2 s here); then no file, whole or partial, remains.
    await expect.poll(async () => storedFiles(server.filesDir), { timeout: 8000 }).toEqual(before);
  });
});
