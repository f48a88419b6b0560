// Executes every README example marked <!-- example --> against a real server, and checks that it prints
// what the README shows after it. "…" in the shown output stands for any non-empty text (ids, times).
// An example marked <!-- example (eventually) --> only reads, and may be run again for a few seconds until
// it shows the steady state (a status read right after a start may find the worker not done yet).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";
import { createWorker, installWorkerLogging, type RunningWorker } from "../../src/worker/index.js";
import { pino } from "pino";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { REPO_ROOT } from "../helpers/tools.js";

const run = promisify(execFile);

interface Example {
  readonly lang: string;
  readonly code: string;
  readonly eventually: boolean;
  readonly expected: { lang: string; text: string };
}

/** The marked examples, each with the fenced block that follows it as its expected output. */
function readExamples(markdown: string): Example[] {
  const blocks = [...markdown.matchAll(/(<!-- example( \(eventually\))? -->\s*\n)?```(\w+)\n([\s\S]*?)\n```/g)].map((m) => ({
    marked: m[1] !== undefined,
    eventually: m[2] !== undefined,
    lang: m[3]!,
    text: m[4]!,
  }));
  const examples: Example[] = [];
  blocks.forEach((block, i) => {
    const next = blocks[i + 1];
    if (!block.marked) return;
    if (next === undefined || next.marked) throw new Error(`README example without expected output:\n${block.text}`);
    examples.push({ lang: block.lang, code: block.text, eventually: block.eventually, expected: { lang: next.lang, text: next.text } });
  });
  return examples;
}

/** Does `actual` match `expected`, where "…" inside an expected string matches any non-empty text? */
function matches(expected: unknown, actual: unknown): boolean {
  if (typeof expected === "string" && expected.includes("…")) {
    const pattern = expected.split("…").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+");
    return typeof actual === "string" && new RegExp(`^${pattern}$`, "s").test(actual);
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matches(e, actual[i]));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k) => matches((expected as never)[k], (actual as never)[k]));
  }
  return expected === actual;
}

/** The JSON documents in `text`, however they are laid out (curl prints no newline, grpcurl indents). */
function parseJsonStream(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === "{" || ch === "[") {
      if (depth++ === 0) start = i;
    } else if ((ch === "}" || ch === "]") && --depth === 0) {
      docs.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return docs;
}

function outputMatches(expected: Example["expected"], stdout: string): boolean {
  const want = expected.text.trim().split("\n");
  if (expected.lang === "json") {
    try {
      const got = parseJsonStream(stdout);
      return got.length === want.length && want.every((line, i) => matches(JSON.parse(line), got[i]));
    } catch {
      return false;
    }
  }
  const got = stdout.trim().split("\n");
  return got.length === want.length && want.every((line, i) => matches(line, got[i]));
}

const examples = readExamples(readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"));

let server: TestServer;
let worker: RunningWorker;
let running: Promise<void>;

beforeAll(async () => {
  // The README shows the embedded default: the sample workflows on the "flowgate" task queue.
  installWorkerLogging(pino({ level: process.env.FLOWGATE_TEST_LOG_LEVEL ?? "error" }));
  worker = await createWorker({ address: inject("temporalAddress"), namespace: TEST_NAMESPACE, taskQueue: "flowgate" });
  running = worker.worker.run().catch((err: unknown) => {
    console.error("the README test's worker stopped:", err);
  });
  server = await startTestServer({ taskQueue: "flowgate" }, SAMPLE_WORKFLOW_TYPES);
});

afterAll(async () => {
  await server?.close();
  worker?.worker.shutdown();
  await running;
  await worker?.close();
});

describe("README examples", () => {
  it("has examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
  });

  // In order: later examples use what earlier ones started.
  it.each(examples.map((e, i) => [i + 1, e.code.split("\n")[0], e] as const))("example %i: %s", async (_n, _title, example) => {
    const code = example.code.replaceAll("localhost:8000", server.hostPort);
    let stdout = "";
    for (let attempt = 0; attempt < (example.eventually ? 10 : 1); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 300));
      stdout = example.lang === "ts" ? await runTypeScript(code) : await runShell(code);
      if (outputMatches(example.expected, stdout)) return;
    }
    expect(stdout.trim()).toBe(example.expected.text.trim());
  });
});

async function runShell(code: string): Promise<string> {
  const env = { ...process.env, PATH: `${path.dirname(inject("grpcurl"))}:${process.env.PATH}` };
  const { stdout } = await run("bash", ["-euo", "pipefail", "-c", code], { env, timeout: 30_000 });
  return stdout;
}

async function runTypeScript(code: string): Promise<string> {
  // In the repository root, so the example's "./gen/..." import resolves as it does for a reader.
  const file = path.join(REPO_ROOT, `.readme-example-${process.pid}.ts`);
  await writeFile(file, code);
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", file], { cwd: REPO_ROOT, timeout: 30_000 });
    return stdout;
  } finally {
    await rm(file, { force: true });
  }
}
