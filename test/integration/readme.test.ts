// Executes every README example marked <!-- example --> against a real server, and checks that it prints
// what the README shows after it. "…" in the shown output stands for any non-empty text (ids, times).
// An example marked <!-- example (eventually) --> only reads, and may be run again for a few seconds until
// it shows the steady state (a status read right after a start may find the worker not done yet).
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SAMPLE_CONFIG_MAPS, SAMPLE_TRIGGERS, SAMPLE_WORKFLOW_TYPES } from "../../src/samples/index.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";
import { installPythonClient, outputMatches, readExamples, runGo, runPython, runShell, runTypeScript } from "../helpers/readme.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { REPO_ROOT } from "../helpers/tools.js";
import { startTestWorker, type TestWorker } from "../helpers/worker.js";

const examples = readExamples(readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"));

let server: TestServer;
let worker: TestWorker;
/** The Python client, installed by pip, for the Python examples. */
let python: Awaited<ReturnType<typeof installPythonClient>> | undefined;

beforeAll(async () => {
  // The README shows the embedded default: the sample workflows on the "flowgate" task queue.
  worker = await startTestWorker({ address: inject("temporalAddress"), namespace: TEST_NAMESPACE, taskQueue: "flowgate" });
  server = await startTestServer({ config: { taskQueue: "flowgate" }, workflowTypes: SAMPLE_WORKFLOW_TYPES, triggers: SAMPLE_TRIGGERS, configMaps: SAMPLE_CONFIG_MAPS });
  python = await installPythonClient();
}, 300_000);

afterAll(async () => {
  await server?.close();
  await worker?.close();
  await python?.remove();
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
      stdout =
        example.lang === "ts"
          ? await runTypeScript(code)
          : example.lang === "go"
            ? await runGo(code)
            : example.lang === "python"
              ? await runPython(code, python!.pythonPath)
              : await runShell(code, inject("grpcurl"), server.baseUrl);
      if (outputMatches(example.expected, stdout)) return;
    }
    expect(stdout.trim()).toBe(example.expected.text.trim());
  });
});

