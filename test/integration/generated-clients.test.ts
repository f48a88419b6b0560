// The Go and Python clients (clients/go, clients/python), generated from proto/ by scripts/generate.sh, are
// used as their users use them: the Go module is required by another module and built with the Go toolchain,
// the Python package is installed by pip, and each one's example program runs against a live Flowgate. It
// starts "greet" and reads its result, watches a "report" run to its end, and checks that an unregistered type
// is an invalid-argument error; with an API key on a secured server, and without one, where it must fail as
// unauthenticated.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSecuredTestServer, startTestServer, type TestServer } from "../helpers/server.js";
import { installPythonClient } from "../helpers/readme.js";
import { REPO_ROOT } from "../helpers/tools.js";

const run = promisify(execFile);
const KEY = `fgk_clients_${"5".repeat(32)}`;

let dir: string;
let server: TestServer;
let secured: TestServer;
let goQuickstart: string;
let pythonClient: { pythonPath: string; remove(): Promise<void> } | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-clients-"));
  [server, secured] = await Promise.all([startTestServer(), startSecuredTestServer(KEY)]);
  goQuickstart = path.join(dir, "quickstart");
  const [, installed] = await Promise.all([
    buildGoConsumer(path.join(dir, "consumer"), goQuickstart),
    // As a Python service would: pip builds and installs the package with its dependencies from PyPI.
    installPythonClient(),
  ]);
  pythonClient = installed;
}, 600_000);

/**
 * The quickstart built as another Go service builds it: in a module of its own that requires the client
 * module (by `replace`, until the module is published at its path), its dependencies resolved by
 * `go mod tidy` from the module proxy.
 */
async function buildGoConsumer(module: string, output: string): Promise<void> {
  await mkdir(module);
  await writeFile(
    path.join(module, "go.mod"),
    `module example.com/orders\n\ngo 1.24\n\nrequire github.com/flowgate/flowgate/clients/go v0.0.0\n\nreplace github.com/flowgate/flowgate/clients/go => ${path.join(REPO_ROOT, "clients/go")}\n`,
  );
  await cp(path.join(REPO_ROOT, "clients/go/examples/quickstart/main.go"), path.join(module, "main.go"));
  await run("go", ["mod", "tidy"], { cwd: module, timeout: 300_000 });
  await run("go", ["build", "-o", output, "."], { cwd: module, timeout: 300_000 });
}

afterAll(async () => {
  await Promise.all([server?.close(), secured?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
  await pythonClient?.remove();
});

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function outcome(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(file, args, { env: { ...process.env, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** What every run of a quickstart prints, in this order, whatever the language. */
function expectQuickstart(result: Outcome, invalidArgument: string): void {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const lines = result.stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^started greet: greet-[0-9a-f-]{36}$/);
  expect(lines[1]).toBe('result: {"greeting":"Hello, Ada!"}');
  expect(lines[2]).toMatch(/^watching report: report-[0-9a-f-]{36}$/);
  const watched = lines.slice(3, -1);
  expect(watched[0]).toBe("  STARTED report");
  expect(watched.filter((line) => line.startsWith("  PROGRESS")).map((line) => line.replace(/\s+/g, " "))).toEqual([
    " PROGRESS 0% writing section 1 of 3",
    " PROGRESS 33% writing section 2 of 3",
    " PROGRESS 67% writing section 3 of 3",
    " PROGRESS 100% 3 sections written",
  ]);
  expect(watched.at(-1)).toMatch(/^ {2}COMPLETED \{/);
  expect(JSON.parse(watched.at(-1)!.replace("  COMPLETED ", ""))).toEqual({ sections: ["Section 1 of 3", "Section 2 of 3", "Section 3 of 3"], steps: 3 });
  expect(lines.at(-1)).toBe(`unregistered type: ${invalidArgument}`);
}

describe("the Go client (clients/go)", () => {
  it.each(["connect", "grpc", "grpcweb"])("runs the quickstart over %s", async (protocol) => {
    expectQuickstart(await outcome(goQuickstart, ["-url", server.baseUrl, "-protocol", protocol]), "invalid_argument");
  });

  it("sends an API key from the environment, and without one fails as unauthenticated", async () => {
    expectQuickstart(await outcome(goQuickstart, ["-url", secured.baseUrl, "-protocol", "grpc"], { FLOWGATE_API_KEY: KEY }), "invalid_argument");
    const refused = await outcome(goQuickstart, ["-url", secured.baseUrl], { FLOWGATE_API_KEY: "" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^quickstart: StartWorkflow: unauthenticated: /);
  });
});

describe("the Python client (clients/python)", () => {
  const quickstart = path.join(REPO_ROOT, "clients/python/examples/quickstart.py");
  const python = (args: string[], env: NodeJS.ProcessEnv = {}) => outcome("python3", [quickstart, ...args], { PYTHONPATH: pythonClient!.pythonPath, ...env });

  it("runs the quickstart over gRPC", async () => {
    expectQuickstart(await python(["--url", server.hostPort]), "INVALID_ARGUMENT");
  });

  it("sends an API key, and without one fails as unauthenticated", async () => {
    expectQuickstart(await python(["--url", secured.hostPort, "--api-key", KEY]), "INVALID_ARGUMENT");
    const refused = await python(["--url", secured.hostPort], { FLOWGATE_API_KEY: "" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("StatusCode.UNAUTHENTICATED");
  });
});
