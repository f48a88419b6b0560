// README examples as tests: fenced blocks marked with an HTML comment, each followed by the block that shows
// its output. "…" in the shown output stands for any non-empty text (ids, times).
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./tools.js";

const run = promisify(execFile);

export interface Example {
  readonly lang: string;
  readonly code: string;
  readonly eventually: boolean;
  readonly expected: { lang: string; text: string };
}

/** The marked examples, each with the fenced block that follows it as its expected output. */
export function readExamples(markdown: string, marker = "example"): Example[] {
  const pattern = new RegExp(`(<!-- ${marker}( \\(eventually\\))? -->\\s*\\n)?\`\`\`(\\w+)\\n([\\s\\S]*?)\\n\`\`\``, "g");
  const blocks = [...markdown.matchAll(pattern)].map((m) => ({
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

export function outputMatches(expected: Example["expected"], stdout: string): boolean {
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

/**
 * Runs a shell example with bash (strict mode), with grpcurl on the PATH when given, and `flowgate` (the
 * package's bin, built) on it too, talking to `flowgateUrl` when given.
 */
export async function runShell(code: string, grpcurl?: string, flowgateUrl?: string): Promise<string> {
  const bins = [BIN_DIR, ...(grpcurl === undefined ? [] : [path.dirname(grpcurl)])];
  await mkdir(BIN_DIR, { recursive: true });
  // Written aside and renamed into place: test files run in parallel, and none may run a half-written one.
  const shim = path.join(BIN_DIR, `flowgate.${process.pid}`);
  await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO_ROOT, "dist/src/cli/main.js")}" "$@"\n`, { mode: 0o755 });
  await rename(shim, path.join(BIN_DIR, "flowgate"));
  const env = { ...process.env, PATH: `${bins.join(":")}:${process.env.PATH}`, ...(flowgateUrl === undefined ? {} : { FLOWGATE_URL: flowgateUrl }) };
  const { stdout } = await run("bash", ["-euo", "pipefail", "-c", code], { env, timeout: 30_000 });
  return stdout;
}

/** Where the README's shell examples find `flowgate`, as `npm install -g` or `npx` would put it. */
const BIN_DIR = path.join(REPO_ROOT, ".flowgate", "readme-bin");

export async function runTypeScript(code: string): Promise<string> {
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

/** A Go example: a whole program, run with `go run` in clients/go, so it builds against that module. */
export async function runGo(code: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-readme-go-"));
  try {
    await writeFile(path.join(dir, "main.go"), code);
    const { stdout } = await run("go", ["run", path.join(dir, "main.go")], { cwd: path.join(REPO_ROOT, "clients/go"), timeout: 240_000 });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A Python example, with the Python client package installed at `pythonPath`. */
export async function runPython(code: string, pythonPath: string): Promise<string> {
  const { stdout } = await run("python3", ["-c", code], { env: { ...process.env, PYTHONPATH: pythonPath }, timeout: 60_000 });
  return stdout;
}

/** Installs clients/python (built from a copy, so no build files land in the repository) into a new folder. */
export async function installPythonClient(): Promise<{ pythonPath: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-python-client-"));
  await cp(path.join(REPO_ROOT, "clients/python"), path.join(dir, "package"), { recursive: true });
  const pythonPath = path.join(dir, "site");
  await run("python3", ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--target", pythonPath, path.join(dir, "package")], { timeout: 300_000 });
  return { pythonPath, remove: () => rm(dir, { recursive: true, force: true }) };
}
