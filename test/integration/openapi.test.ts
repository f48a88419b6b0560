// The REST API's OpenAPI 3.1 document (openapi/flowgate.openapi.json, written by `npm run generate` from the
// contract) as the server serves it at GET /openapi.json: it names every REST route the transcoder serves,
// with its path parameters; and Schemathesis (PyPI), generating requests from it against a live Flowgate,
// finds no server error and no answer that contradicts it. The refusals Schemathesis first found (a bad page
// token, a malformed multipart body, oversized headers) are pinned by tests of their own.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandlerError, type AppHandler } from "../../src/handler/index.js";
import { httpBindings } from "../../src/server/rest/mapping.js";
import { SERVICE_DESCRIPTORS } from "../../src/services/index.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { ensureSchemathesis, REPO_ROOT } from "../helpers/tools.js";

const run = promisify(execFile);

interface Operation {
  readonly operationId: string;
  readonly parameters?: readonly { name: string; in: string; required?: boolean }[];
  readonly responses: Record<string, unknown>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

// The handler hooks answer, so their RPCs are tried for what they are rather than refused as unimplemented.
const handler: AppHandler = {
  testAuth: ({ payload }) => ({ success: payload.token === "good", message: "" }),
  preflightCheck: () => ({ success: true, message: "ready" }),
  fetchMetadata: ({ payload }) => {
    if (payload.database === "missing") throw new HandlerError("not_found", "no such database");
    return { tables: [] };
  },
};

let server: TestServer;
let served: Document;
beforeAll(async () => {
  server = await startTestServer({ handler });
  served = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as Document;
});
afterAll(async () => {
  await server?.close();
});

describe("GET /openapi.json", () => {
  it("is the generated document, served as JSON", async () => {
    const res = await fetch(`${server.baseUrl}/openapi.json`);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await res.text()).toBe(await readFile(path.join(REPO_ROOT, "openapi/flowgate.openapi.json"), "utf8"));
    expect(served.openapi).toBe("3.1.0");
  });

  it("describes every REST route of every RPC, with its path parameters and the error shape", () => {
    let routes = 0;
    for (const service of SERVICE_DESCRIPTORS) {
      for (const method of service.methods) {
        for (const binding of httpBindings(method)) {
          routes++;
          const operation = served.paths[binding.template.template]?.[binding.httpMethod.toLowerCase()];
          expect(operation, `${binding.httpMethod} ${binding.template.template}`).toBeDefined();
          expect(operation!.operationId).toMatch(new RegExp(`^${service.name}_${method.name}(_\\d)?$`));
          const pathParams = (operation!.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
          expect(pathParams).toEqual(binding.template.variables.map((v) => v.fieldPath.join(".")));
          expect(operation!.responses.default).toEqual({ $ref: "#/components/responses/Error" });
        }
      }
    }
    expect(routes).toBeGreaterThanOrEqual(30);
    // The multipart upload has a route of its own, documented too.
    expect(served.paths["/workflows/v1/file"]?.post?.operationId).toBe("WorkflowService_UploadFile");
  });

  it("serves a docs page and the Swagger UI files it loads", async () => {
    const page = await fetch(`${server.baseUrl}/docs`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    for (const src of [...html.matchAll(/(?:src|href)="(docs\/[^"]+)"/g)].map((m) => m[1]!)) {
      const res = await fetch(`${server.baseUrl}/${src}`);
      expect(res.status, src).toBe(200);
      expect((await res.arrayBuffer()).byteLength, src).toBeGreaterThan(10);
    }
    // Relative URLs, so a proxy may serve Flowgate under a path prefix; "/docs/" finds the same files.
    expect(html).toContain('href="docs/swagger-ui.css"');
    expect(await (await fetch(`${server.baseUrl}/docs/`)).text()).toContain('href="swagger-ui.css"');
    expect(await (await fetch(`${server.baseUrl}/docs/init.js`)).text()).toContain('"openapi.json"');
  });
});

describe("the docs page in a browser", () => {
  it("renders every operation of the document, read from /openapi.json", async () => {
    const executablePath = process.env.FLOWGATE_TEST_CHROMIUM ?? "/usr/bin/chromium";
    const profile = await mkdtemp(path.join(os.tmpdir(), "flowgate-docs-"));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${server.baseUrl}/docs`);
      await page.locator(".opblock").first().waitFor({ timeout: 30_000 });
      const shown = await page.locator(".opblock-summary-path").allInnerTexts();
      const documented = Object.values(served.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
      expect(shown.length).toBe(documented);
      expect(shown.map((p) => p.replace(/\u200b/g, ""))).toContain("/workflows/v1/start");
      expect(await page.locator(".info .title").innerText()).toContain("Flowgate");
    } finally {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("refusals Schemathesis found", () => {
  it("refuses a page token it did not give out at once, with invalid_argument (400)", async () => {
    const started = Date.now();
    for (const token of ["eyJ4Ijox", "eyJ4Ijox.AAAAAAAA", "[Filtered]"]) {
      const res = await fetch(`${server.baseUrl}/workflows/v1/list?page_token=${encodeURIComponent(token)}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ code: "invalid_argument", message: "page_token: not a page token from a previous page" });
    }
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("answers a well-formed token Temporal cannot read with invalid_argument too, not internal", async () => {
    const text = Buffer.from('{"x":1').toString("base64url"); // JSON cut short
    const token = `${text}.${createHash("sha256").update(text).digest("base64url").slice(0, 8)}`;
    const res = await fetch(`${server.baseUrl}/workflows/v1/list?page_token=${token}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: "invalid_argument", message: "page_token: not a page token from a previous page of this listing" });
  }, 60_000);

  it("pages through runs with the tokens it gives out", async () => {
    for (const name of ["one", "two"]) {
      await fetch(`${server.baseUrl}/workflows/v1/start`, { method: "POST", body: JSON.stringify({ workflow_type: "greet", input: { name } }) });
    }
    // Visibility lists a new run within a moment; two greet runs make a second page of size 1.
    let first: { workflows: unknown[]; next_page_token: string } = { workflows: [], next_page_token: "" };
    for (let i = 0; i < 50 && first.next_page_token === ""; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      first = (await (await fetch(`${server.baseUrl}/workflows/v1/list?page_size=1&workflow_type=greet`)).json()) as typeof first;
    }
    expect(first.workflows).toHaveLength(1);
    expect(first.next_page_token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{8}$/);
    const second = await fetch(`${server.baseUrl}/workflows/v1/list?page_size=1&workflow_type=greet&page_token=${first.next_page_token}`);
    expect(second.status).toBe(200);
  });

  it.each([
    ["without a boundary", "multipart/form-data", ""],
    ["with a malformed part", "multipart/form-data; boundary=b", "--b\r\nFalse--b--\r\n"],
  ])("answers a multipart upload %s with invalid_argument (400)", async (_name, contentType, body) => {
    const res = await fetch(`${server.baseUrl}/workflows/v1/file`, { method: "POST", headers: { "content-type": contentType }, body });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { code: string; message: string };
    expect(json.code).toBe("invalid_argument");
    expect(json.message).toMatch(/^request body: not valid multipart\/form-data \(|^file: /);
  });

  it("answers headers over Node's limit with 431 in the Connect error shape, and closes the connection", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(server.baseUrl).port), "127.0.0.1", () => {
        socket.write(`GET /workflows/v1/types HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
      });
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
      socket.on("error", reject);
      socket.on("close", () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(answer).toContain("Connection: close\r\n");
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual({
      code: "resource_exhausted",
      message: `the request's headers are larger than the limit of ${http.maxHeaderSize} bytes`,
    });
  });
});

describe("Schemathesis against the live server", () => {
  it("finds no server error and no answer that contradicts the document", async () => {
    const { script, pythonPath } = await ensureSchemathesis();
    const args = [
      script,
      "run",
      `${server.baseUrl}/openapi.json`,
      "--checks",
      "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
      "--max-examples",
      "15",
      "--seed",
      "20261125",
      "--request-timeout",
      "20",
      "--no-color",
    ];
    let output: string;
    let code = 0;
    try {
      // In its own folder: it keeps a cache and Hypothesis's example database where it runs.
      output = (await run("python3", args, { cwd: pythonPath, env: { ...process.env, PYTHONPATH: pythonPath, SCHEMATHESIS_TELEMETRY: "false" }, timeout: 540_000, maxBuffer: 64 * 1024 * 1024 })).stdout;
    } catch (err) {
      const failed = err as { code?: number; stdout?: string; stderr?: string };
      code = typeof failed.code === "number" ? failed.code : -1;
      output = `${failed.stdout ?? ""}\n${failed.stderr ?? ""}`;
    }
    // On failure the output names each failing operation and a curl command that reproduces it.
    expect(code, output.slice(-20_000)).toBe(0);
    expect(output).toMatch(/Tested: +\d+/);
  }, 600_000);
});
