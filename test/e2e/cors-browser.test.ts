// A real cross-origin call from headless Chromium (Debian's, driven by playwright-core): a page served from
// one origin calls Flowgate on another, over Connect JSON and REST, and reads the headers CORS exposes. A page
// from an origin Flowgate does not list is refused by the browser. Preflights are answered before
// authentication and before any handler.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authenticator, hashApiKey, loadApiKeys } from "../../src/auth/index.js";
import { WorkflowEventType, type createFlowgateClient } from "../../src/client/index.js";

/** What the page's module of the client exports, as the page script sees it. */
interface ClientModule {
  readonly createFlowgateClient: typeof createFlowgateClient;
}
import { startTestServer, type TestServer } from "../helpers/server.js";
import { REPO_ROOT } from "../helpers/tools.js";
import { writeFile } from "node:fs/promises";

const CHROMIUM = process.env.FLOWGATE_TEST_CHROMIUM ?? "/usr/bin/chromium";
const KEY = "fgk_browser_0123456789abcdef0123456789ab";
const CLIENT_ENTRY = path.join(REPO_ROOT, "src", "client", "index.ts");

/**
 * A page server: any path answers an empty HTML page, so the page's origin is this server's; `scripts` are
 * served as JavaScript modules at their paths.
 */
async function pageServer(scripts: Readonly<Record<string, string>> = {}): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const script = scripts[req.url ?? ""];
    if (script !== undefined) return res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    // A page that loads each script as a module and keeps its exports on window, by path.
    const modules = Object.keys(scripts).map((p) => `import * as m${p.length} from "${p}"; (window.modules ??= {})["${p}"] = m${p.length};`);
    res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><title>page</title><script type="module">${modules.join("\n")}</script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

let flowgate: TestServer;
let allowed: { server: Server; origin: string };
let other: { server: Server; origin: string };
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium) or set FLOWGATE_TEST_CHROMIUM`);
  // The TypeScript client as a browser bundle: esbuild refuses to bundle for the browser anything that
  // imports Node's modules, so this also proves the client imports none.
  const bundle = await build({ entryPoints: [CLIENT_ENTRY], bundle: true, format: "esm", platform: "browser", write: false, logLevel: "silent" });
  allowed = await pageServer({ "/flowgate-client.js": bundle.outputFiles[0]!.text });
  other = await pageServer();
  profile = await mkdtemp(path.join(os.tmpdir(), "flowgate-chromium-"));
  const keysFile = path.join(profile, "keys.yaml");
  await writeFile(keysFile, `keys:\n  - {name: browser, sha256: ${hashApiKey(KEY)}, scopes: ["*"]}\n`);
  const authenticator = new Authenticator({ apiKeys: await loadApiKeys(keysFile, ["workflows.read", "workflows.write"]) });
  flowgate = await startTestServer({ corsOrigins: [allowed.origin], auth: { authenticator, publicParts: new Set(["health", "reflection", "metrics"]) } });
  browser = await chromium.launchPersistentContext(path.join(profile, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

afterAll(async () => {
  await browser?.close();
  await flowgate?.close();
  allowed?.server.close();
  other?.server.close();
  if (profile !== undefined) await rm(profile, { recursive: true, force: true });
});

/** Runs `fetch` in a page of `origin` against Flowgate; what the page's script can see of the answer. */
async function fetchFrom(origin: string, url: string, init: { method: string; headers?: Record<string, string>; body?: string }) {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    return await page.evaluate(
      async ({ url, init }) => {
        try {
          const res = await fetch(url, init);
          return { status: res.status, body: (await res.json()), requestId: res.headers.get("x-request-id"), error: undefined };
        } catch (err) {
          return { status: 0, body: undefined, requestId: null, error: String(err) };
        }
      },
      { url, init },
    );
  } finally {
    await page.close();
  }
}

describe("a browser page on another origin", () => {
  it("starts a workflow over Connect JSON with credentials, and reads the exposed request id", async () => {
    const res = await fetchFrom(allowed.origin, `${flowgate.baseUrl}/flowgate.workflow.v1.WorkflowService/StartWorkflow`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1", authorization: `Bearer ${KEY}`, "x-request-id": "from-the-browser" },
      body: JSON.stringify({ workflowType: "greet", input: { name: "Ada" } }),
    });
    expect(res.error).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ workflowId: expect.stringMatching(/^greet-/) as string, runId: expect.any(String) as string });
    expect(res.requestId).toBe("from-the-browser");

    const { workflowId } = res.body as { workflowId: string };
    const status = await fetchFrom(allowed.origin, `${flowgate.baseUrl}/workflows/v1/status/${workflowId}`, { method: "GET", headers: { "x-api-key": KEY } });
    // REST answers in the proto field names; the run records the browser's caller.
    expect(status).toMatchObject({ status: 200, body: { workflow_id: workflowId, workflow_type: "greet", memo: { "flowgate.caller": "key:browser" } } });
  });

  it("reads a refusal's Connect error body, not an opaque CORS failure", async () => {
    const res = await fetchFrom(allowed.origin, `${flowgate.baseUrl}/workflows/v1/status/x`, { method: "GET" });
    expect(res).toMatchObject({ status: 401, body: { code: "unauthenticated" } });
  });

  it("is refused by the browser when its origin is not allowed", async () => {
    const res = await fetchFrom(other.origin, `${flowgate.baseUrl}/workflows/v1/types`, { method: "GET", headers: { "x-api-key": KEY } });
    expect(res.status).toBe(0);
    expect(res.error).toMatch(/Failed to fetch/);
  });
});

describe("the TypeScript client in a browser page", () => {
  it("starts a workflow, reads its result and watches it to its close, over Connect and gRPC-Web", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${allowed.origin}/`);
      await page.waitForFunction(() => (globalThis as unknown as { modules?: object }).modules !== undefined);
      const seen = await page.evaluate(
        async ({ baseUrl, key }) => {
          // The module the page loaded from its own origin, as an application's bundle would be.
          const { createFlowgateClient } = (globalThis as unknown as { modules: Record<string, ClientModule> }).modules["/flowgate-client.js"]!;
          const outcomes = [];
          for (const protocol of ["connect", "grpc-web"] as const) {
            const fg = createFlowgateClient({ baseUrl, protocol, apiKey: key });
            const run = await fg.start("greet", { name: `Browser over ${protocol}` });
            const result = await run.result();
            const events = [];
            for await (const event of run.watch()) events.push(event.type);
            outcomes.push({ protocol, result, events: events.length, closed: events.at(-1) });
          }
          return outcomes;
        },
        { baseUrl: flowgate.baseUrl, key: KEY },
      );
      expect(seen).toEqual([
        { protocol: "connect", result: { greeting: "Hello, Browser over connect!" }, events: 2, closed: WorkflowEventType.COMPLETED },
        { protocol: "grpc-web", result: { greeting: "Hello, Browser over grpc-web!" }, events: 2, closed: WorkflowEventType.COMPLETED },
      ]);
    } finally {
      await page.close();
    }
  });
});

describe("a preflight", () => {
  it("is answered with the Connect and gRPC-Web headers, without credentials and without reaching a handler", async () => {
    const res = await fetch(`${flowgate.baseUrl}/flowgate.workflow.v1.WorkflowService/StopWorkflow`, {
      method: "OPTIONS",
      headers: { origin: allowed.origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-grpc-web,authorization" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed.origin);
    const allowedHeaders = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["content-type", "connect-protocol-version", "x-grpc-web", "grpc-timeout", "authorization", "x-api-key"]) expect(allowedHeaders).toContain(h);
    expect(res.headers.get("access-control-expose-headers")!.toLowerCase()).toContain("grpc-status");
    expect(await res.text()).toBe("");
    const metrics = await (await fetch(`${flowgate.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^flowgate_requests_total\{rpc="cors_preflight",protocol="connect",code="ok"\} \d+$/m);
    expect(metrics).not.toMatch(/StopWorkflow/);
  });
});
