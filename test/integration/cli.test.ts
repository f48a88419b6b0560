// The `flowgate` command-line tool, run as its users run it: the package's built bin (dist/src/cli/main.js),
// a separate process against a live Flowgate, reading only its arguments, environment and standard input.
// Each command is checked for what a person reads, what --json gives a script, and the exit code: the Connect
// code of a failed call, 64 for a mistake on the command line, 65 for a run that did not complete.
import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_TRIGGERS, SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";
import { startSecuredTestServer, startTestServer, type TestServer } from "../helpers/server.js";
import { freePort, REPO_ROOT } from "../helpers/tools.js";

const BIN = path.join(REPO_ROOT, "dist/src/cli/main.js");
const KEY = `fgk_cli_${"3".repeat(32)}`;

let dir: string;
let server: TestServer;
let secured: TestServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-cli-"));
  [server, secured] = await Promise.all([startTestServer({ triggers: SAMPLE_TRIGGERS, workflowTypes: SAMPLE_WORKFLOW_TYPES }), startSecuredTestServer(KEY)]);
});

afterAll(async () => {
  await Promise.all([server?.close(), secured?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `flowgate <args>` against the test server (FLOWGATE_URL), with `input` on standard input. */
function flowgate(args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, FLOWGATE_URL: server.baseUrl, FLOWGATE_API_KEY: "", ...options.env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") reject(new Error(`flowgate did not run: ${err.message}`));
        else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin!.end(options.input ?? "");
  });
}

const id = (prefix: string) => `${prefix}-${randomUUID()}`;

describe("flowgate start, result, status", () => {
  it("starts a run and, with --wait, prints its result", async () => {
    const res = await flowgate(["start", "greet", "--input", '{"name":"Ada"}', "--wait"]);
    expect(res).toMatchObject({ code: 0, stderr: "" });
    expect(res.stdout).toMatch(/^Started greet-[0-9a-f-]{36} \(run [0-9a-f-]{36}\)\n\{\n {2}"greeting": "Hello, Ada!"\n\}\n$/);
  });

  it("prints the ids as JSON with --json, and the REST API's result shape with --wait --json", async () => {
    const workflowId = id("cli-greet");
    const started = await flowgate(["start", "greet", "--id", workflowId, "-i", '{"name":"Json"}', "--json"]);
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toEqual({ workflow_id: workflowId, run_id: expect.any(String) });
    const result = await flowgate(["result", workflowId, "--json"]);
    expect(JSON.parse(result.stdout)).toEqual({
      workflow_id: workflowId,
      run_id: JSON.parse(started.stdout).run_id,
      status: "WORKFLOW_STATUS_COMPLETED",
      result: { greeting: "Hello, Json!" },
    });
    const status = await flowgate(["status", workflowId]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`workflow id: ${workflowId}\n`);
    expect(status.stdout).toMatch(/^type: {8}greet$/m);
    expect(status.stdout).toMatch(/^status: {6}COMPLETED$/m);
    expect(status.stdout).toMatch(/^history: {5}\d+ events$/m);
  });

  it("reads the input from a file (@file) and from standard input (-)", async () => {
    const file = path.join(dir, "input.json");
    await writeFile(file, '{"name": "File"}');
    expect((await flowgate(["start", "greet", "--input", `@${file}`, "--wait"])).stdout).toContain('"greeting": "Hello, File!"');
    expect((await flowgate(["start", "greet", "--input", "-", "--wait"], { input: '{"name": "Stdin"}' })).stdout).toContain('"greeting": "Hello, Stdin!"');
  });

  it("exits 65 with the failure when a waited-for run does not complete", async () => {
    const res = await flowgate(["start", "greet", "--input", '{"name":"   "}', "--wait"]);
    expect(res.code).toBe(65);
    expect(res.stderr).toMatch(/^flowgate: greet-\S+ \(run \S+\) ended FAILED: greet needs a non-empty "name"\n$/);
  });
});

describe("flowgate watch", () => {
  it("prints each event as it comes, one line each, and exits 0 when the run completes", async () => {
    const res = await flowgate(["start", "report", "--input", '{"steps":2,"step_seconds":0.2}', "--watch"]);
    expect(res.code).toBe(0);
    const kinds = res.stdout
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((line) => line.slice(10).split(/\s+/)[0]);
    expect(kinds[0]).toBe("STARTED");
    expect(kinds.filter((k) => k === "PROGRESS")).toHaveLength(3);
    expect(kinds.at(-1)).toBe("COMPLETED");
    expect(res.stdout).toMatch(/^\d\d:\d\d:\d\d {2}PROGRESS {12}100% 2 sections written$/m);
    expect(res.stdout).toMatch(/^\d\d:\d\d:\d\d {2}COMPLETED {11}\{"sections":\["Section 1 of 2","Section 2 of 2"\],"steps":2\}$/m);
    expect(res.stdout).not.toContain("\x1b");
  });

  it("gives one JSON event per line with --json, as the REST stream does", async () => {
    const workflowId = id("cli-report");
    await flowgate(["start", "report", "--id", workflowId, "--input", '{"steps":1,"step_seconds":0}']);
    const res = await flowgate(["watch", workflowId, "--json"]);
    expect(res.code).toBe(0);
    const events = res.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { event_id: string; type: string; progress?: { percent?: number } });
    expect(events[0]!.type).toBe("WORKFLOW_EVENT_TYPE_STARTED");
    expect(events.at(-1)!.type).toBe("WORKFLOW_EVENT_TYPE_COMPLETED");
    expect(events.find((e) => e.type === "WORKFLOW_EVENT_TYPE_PROGRESS" && e.progress?.percent === 100)).toBeDefined();
    expect(events.map((e) => Number(e.event_id))).toEqual([...events.map((e) => Number(e.event_id))].sort((a, b) => a - b));
  });

  it("draws a progress bar at a terminal, redrawn under the events and cleared at the end", async () => {
    // A real terminal: Python's pty gives the tool a pseudo-terminal as its standard output.
    const script = `import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode())
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))`;
    const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const child = spawn("python3", ["-c", script, process.execPath, BIN, "start", "report", "--input", '{"steps":2,"step_seconds":0.2}', "--watch"], {
        env: { ...process.env, FLOWGATE_URL: server.baseUrl },
      });
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, text }));
    });
    expect(output.code).toBe(0);
    expect(output.text).toContain("[###############---------------]  50% writing section 2 of 2");
    expect(output.text).toContain("[##############################] 100% 2 sections written");
    // Every bar is erased before the next line, and the run's last line stands alone at the end.
    // eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is tested
    expect(output.text).toMatch(/\r\x1b\[2K\d\d:\d\d:\d\d {2}COMPLETED {11}\{[^\r\x1b]*\}\r\n$/);
  });

  it("stops quietly when its reader stops reading (a pipe into head)", async () => {
    const { stdout, stderr } = await promisify(execFile)(
      "bash",
      ["-c", `"${process.execPath}" "${BIN}" start report --input '{"steps":2,"step_seconds":0.5}' --watch --json | head -n 1; echo "exit \${PIPESTATUS[0]}"`],
      { env: { ...process.env, FLOWGATE_URL: server.baseUrl }, timeout: 60_000 },
    );
    expect(stdout).toMatch(/^\{"event_id":"1",.*"type":"WORKFLOW_EVENT_TYPE_STARTED".*\}\nexit 0\n$/);
    expect(stderr).toBe("");
  });

  it("exits with not_found's code for a workflow that does not exist", async () => {
    const res = await flowgate(["watch", id("no-such-workflow")]);
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/^flowgate: not_found: /);
  });
});

describe("flowgate signal, query, update, stop", () => {
  it("answers a run waiting for a person: query its state, signal the decision, read the result", async () => {
    const workflowId = id("cli-approval");
    expect((await flowgate(["start", "approval", "--id", workflowId, "--input", '{"request":"a laptop"}'])).code).toBe(0);
    const state = await flowgate(["query", workflowId, "state"]);
    expect(state.code).toBe(0);
    expect(JSON.parse(state.stdout)).toMatchObject({ request: "a laptop" });
    const signal = await flowgate(["signal", workflowId, "decision", "--input", '{"approved":true}']);
    expect(signal).toMatchObject({ code: 0, stderr: "" });
    expect(signal.stdout).toMatch(new RegExp(`^Sent signal "decision" to ${workflowId} \\(run \\S+\\)\\n$`));
    const result = await flowgate(["result", workflowId, "--json"]);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: "WORKFLOW_STATUS_COMPLETED", result: { approved: true, decided_by: "signal" } });
  });

  it("runs an update and prints its result; a validator's refusal is failed_precondition (9)", async () => {
    const workflowId = id("cli-approval");
    expect((await flowgate(["start", "approval", "--id", workflowId, "--input", '{"request":"a desk"}'])).code).toBe(0);
    const refused = await flowgate(["update", workflowId, "decision", "--input", '{"approved":false}']);
    expect(refused.code).toBe(9);
    expect(refused.stderr).toMatch(/^flowgate: failed_precondition: .*a rejection needs a comment/);
    const accepted = await flowgate(["update", workflowId, "decision", "--input", '{"approved":false,"comment":"not now"}', "--json"]);
    expect(accepted.code).toBe(0);
    expect(JSON.parse(accepted.stdout)).toMatchObject({ workflow_id: workflowId, update_id: expect.any(String) });
  });

  it("stops a run (cancel or terminate); waiting for it then exits 65", async () => {
    const workflowId = id("cli-sleep");
    await flowgate(["start", "sleep", "--id", workflowId, "--input", '{"seconds":3600}']);
    const stop = await flowgate(["stop", workflowId, "--terminate", "--reason", "from the CLI test"]);
    expect(stop.stdout).toMatch(new RegExp(`^Terminated ${workflowId} \\(run \\S+\\)\\n$`));
    const result = await flowgate(["result", workflowId]);
    expect(result.code).toBe(65);
    expect(result.stderr).toContain("ended TERMINATED");
  });
});

describe("flowgate list, types, publish, config", () => {
  it("lists runs as a table and as JSON, filtered by type", async () => {
    const workflowId = id("cli-listed");
    await flowgate(["start", "greet", "--id", workflowId, "--input", '{"name":"List"}', "--wait"]);
    // Visibility is eventually consistent: the new run shows up within a moment.
    let listed: Result | undefined;
    for (let i = 0; i < 30 && !listed?.stdout.includes(workflowId); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      listed = await flowgate(["list", "--type", "greet", "--query", `WorkflowId = '${workflowId}'`]);
    }
    expect(listed!.stdout.split("\n")[0]).toMatch(/^WORKFLOW ID +TYPE +STATUS +STARTED$/);
    expect(listed!.stdout).toMatch(new RegExp(`^${workflowId} +greet +COMPLETED +\\d{4}-`, "m"));
    const json = JSON.parse((await flowgate(["list", "--query", `WorkflowId = '${workflowId}'`, "--json"])).stdout) as { workflows: { workflow_id: string }[] };
    expect(json.workflows.map((w) => w.workflow_id)).toEqual([workflowId]);
    const bad = await flowgate(["list", "--status", "sleepy"]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/^flowgate: --status must be one of running, completed, /);
  });

  it("lists the workflow types with their handlers", async () => {
    const res = await flowgate(["types"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^approval +\S+ +signals: decision; queries: state; updates: decision +Waits for a person/m);
    const json = JSON.parse((await flowgate(["types", "--json"])).stdout) as { workflow_types: { name: string }[] };
    expect(json.workflow_types.map((t) => t.name)).toContain("greet");
  });

  it("publishes a CloudEvent from a file, and its trigger's run is reported", async () => {
    const file = path.join(dir, "event.json");
    const eventId = id("evt");
    await writeFile(file, JSON.stringify({ id: eventId, source: "cli-test", type: "flowgate.sample.greet", specversion: "1.0", data: { name: "Event" } }));
    const res = await flowgate(["publish", file]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^Event ${eventId}: \\S+\\n {2}sample-greet: started greet \\S+ \\(run \\S+\\)\\n$`));
    const again = JSON.parse((await flowgate(["publish", "-", "--json"], { input: await import("node:fs/promises").then((fs) => fs.readFile(file, "utf8")) })).stdout) as {
      fired: { already_started: boolean }[];
    };
    expect(again.fired).toEqual([expect.objectContaining({ already_started: true })]);
    const missing = await flowgate(["publish", path.join(dir, "nope.json")]);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toBe(`flowgate: <event_file>: cannot read ${path.join(dir, "nope.json")}: no such file\n`);
  });

  it("stores a configuration and reads it back; a stale --expected-version is refused", async () => {
    const configId = id("cli-config");
    const set = await flowgate(["config", "set", configId, "--value", '{"retries":3}', "--expected-version", "0"]);
    expect(set).toMatchObject({ code: 0, stdout: `Saved ${configId}: version 1\n` });
    const merged = await flowgate(["config", "set", configId, "-", "--merge"], { input: '{"region":"eu"}' });
    expect(merged.stdout).toBe(`Saved ${configId}: version 2\n`);
    const got = await flowgate(["config", "get", configId]);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual({ retries: 3, region: "eu" });
    expect(got.stderr).toMatch(new RegExp(`^# ${configId}: version 2, updated \\d{4}-`));
    const stale = await flowgate(["config", "set", configId, "--value", "{}", "--expected-version", "1"]);
    expect(stale.code).not.toBe(0);
    expect(stale.code).toBeLessThanOrEqual(16);
    expect((await flowgate(["config", "get", id("cli-missing")])).code).toBe(5);
    const notObject = await flowgate(["config", "set", configId, "--value", "[1]"]);
    expect(notObject).toMatchObject({ code: 64, stderr: "flowgate: --value must be a JSON object\n" });
  });
});

describe("errors and exit codes", () => {
  it("exits with the Connect code and its message, as text or as JSON on standard error", async () => {
    const res = await flowgate(["start", "no_such_type"]);
    expect(res.code).toBe(3);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(/^flowgate: invalid_argument: workflow_type: "no_such_type" is not a registered workflow type/);
    const json = await flowgate(["start", "no_such_type", "--json"]);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stderr)).toEqual({ code: "invalid_argument", message: expect.stringContaining('"no_such_type"') });
  });

  it("is unavailable (14) when nothing listens at the URL", async () => {
    const res = await flowgate(["types", "--url", `http://127.0.0.1:${await freePort()}`]);
    expect(res.code).toBe(14);
    expect(res.stderr).toMatch(/^flowgate: unavailable: /);
  });

  it("sends the API key from --api-key or FLOWGATE_API_KEY; without one a secured server is unauthenticated (16)", async () => {
    const refused = await flowgate(["types", "--url", secured.baseUrl]);
    expect(refused.code).toBe(16);
    expect(refused.stderr).toMatch(/^flowgate: unauthenticated: /);
    expect((await flowgate(["types", "--url", secured.baseUrl, "--api-key", KEY])).code).toBe(0);
    expect((await flowgate(["start", "greet", "-i", '{"name":"Env"}', "--wait"], { env: { FLOWGATE_URL: secured.baseUrl, FLOWGATE_API_KEY: KEY } })).stdout).toContain("Hello, Env!");
  });

  it.each([
    [["frobnicate"], 'flowgate: unknown command "frobnicate" (flowgate --help lists them)'],
    [["start"], "flowgate: flowgate start needs <workflow_type>"],
    [["start", "greet", "--bogus"], "flowgate: Unknown option '--bogus' (flowgate start --help)"],
    [["start", "greet", "extra"], 'flowgate: flowgate start takes <workflow_type>, not "extra"'],
    [["start", "greet", "--input", "{name"], /^flowgate: --input is not JSON: /],
    [["config"], 'flowgate: "config" needs one of: get, set'],
    [["types", "--url", "localhost:8000"], 'flowgate: --url must be an http:// or https:// URL, not "localhost:8000"'],
    [["types", "--timeout", "soon"], 'flowgate: --timeout must be a number of seconds above 0, not "soon"'],
    [["list", "--limit", "99999999999"], 'flowgate: --limit must be a whole number from 0 to 2147483647, not "99999999999"'],
  ] as const)("a mistake on the command line exits 64: %j", async (args, message) => {
    const res = await flowgate(args);
    expect(res.code).toBe(64);
    if (typeof message === "string") expect(res.stderr).toBe(`${message}\n`);
    else expect(res.stderr).toMatch(message);
  });

  it("hands `serve` to the server, which refuses a bad setting before starting anything (exit 2)", async () => {
    const res = await flowgate(["serve"], { env: { FLOWGATE_PORT: "abc" } });
    expect(res.code).toBe(2);
    expect(res.stderr).toBe('flowgate: invalid configuration: FLOWGATE_PORT must be a port number from 0 to 65535, got "abc"\n');
  });

  it("takes the common options before the command too", async () => {
    const res = await flowgate(["--json", "--url", server.baseUrl, "types"], { env: { FLOWGATE_URL: "" } });
    expect(res.code).toBe(0);
    expect((JSON.parse(res.stdout) as { workflow_types: unknown[] }).workflow_types.length).toBeGreaterThan(0);
    expect((await flowgate(["--url", server.baseUrl, "config", "get", id("cli-nothing")])).code).toBe(5);
  });

  it("gives up waiting for a run after --timeout with deadline_exceeded (4); the run goes on", async () => {
    const workflowId = id("cli-wait");
    await flowgate(["start", "sleep", "--id", workflowId, "--input", '{"seconds":3600}']);
    for (const args of [["result", workflowId], ["watch", workflowId]]) {
      const started = Date.now();
      const res = await flowgate([...args, "--timeout", "1.5"]);
      expect(res.code).toBe(4);
      expect(res.stderr).toBe("flowgate: deadline_exceeded: the run had not ended after --timeout 1.5 s; it goes on\n");
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    expect((await flowgate(["status", workflowId])).stdout).toMatch(/^status: {6}RUNNING$/m);
    await flowgate(["stop", workflowId, "--terminate"]);
  });

  it("prints help for the tool and for each command", async () => {
    const help = await flowgate(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["start", "watch", "signal", "query", "update", "stop", "list", "types", "publish", "config get", "config set", "serve"]) {
      expect(help.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, "m"));
    }
    const start = await flowgate(["start", "--help"]);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/^Usage: flowgate start <workflow_type> \[options\]\n/);
    expect(start.stdout).toContain("--wait, -w");
  });
});
