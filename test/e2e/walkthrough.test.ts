// The README's walk-through, followed as a newcomer would: write the two files it shows into a working
// folder, start Flowgate the way it says, and run each of its examples, checking the output it shows.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedCliPath } from "../../src/embedded/index.js";
import { cleanEnv, startFlowgate, stopAllFlowgates, type FlowgateProcess } from "../helpers/flowgate-process.js";
import { outputMatches, readExamples, runShell } from "../helpers/readme.js";
import { freePort, REPO_ROOT, TOOLS_DIR } from "../helpers/tools.js";

const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
const files = [...readme.matchAll(/<!-- walkthrough file: (\S+) -->\s*\n```\w+\n([\s\S]*?)\n```/g)].map((m) => ({ name: m[1]!, text: m[2]! }));
const startCommand = /<!-- walkthrough start -->\s*\n```sh\n([\s\S]*?)\n```/.exec(readme)?.[1];
const examples = readExamples(readme, "walkthrough example");

let dir: string;
let flowgate: FlowgateProcess;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-walkthrough-"));
  for (const file of files) await writeFile(path.join(dir, file.name), file.text + "\n");
  // "VAR=value npm start": the variables, set the way the shell would.
  const match = /^((?:\w+=\S+ )*)npm start$/.exec(startCommand?.trim() ?? "");
  if (match === null) throw new Error(`the walk-through's start command is not "VAR=value ... npm start": ${startCommand}`);
  const variables = Object.fromEntries(match[1]!.trim().split(/\s+/).filter(Boolean).map((a) => a.split("=") as [string, string]));
  flowgate = await startFlowgate(
    cleanEnv({
      ...variables,
      FLOWGATE_PORT: String(await freePort()),
      FLOWGATE_TEMPORAL_DEV_PORT: String(await freePort()),
      FLOWGATE_TEMPORAL_UI_PORT: "0",
      FLOWGATE_DATA_DIR: path.join(dir, ".flowgate"),
      TEMPORAL_CLI: process.env.TEMPORAL_CLI || cachedCliPath(TOOLS_DIR),
    }),
    { cwd: dir },
  );
}, 120_000);

afterAll(async () => {
  await stopAllFlowgates();
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

describe("the README walk-through: your own workflow, start to result", () => {
  it("has its files, its start command and its examples", () => {
    expect(files.map((f) => f.name)).toEqual(["my-workflows.ts", "flowgate.workflows.yaml"]);
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });

  it.each(examples.map((e, i) => [i + 1, e.code.split("\n")[0], e] as const))("example %i: %s", { timeout: 60_000 }, async (_n, _title, example) => {
    const code = example.code.replaceAll("localhost:8000", new URL(flowgate.baseUrl).host);
    let stdout = "";
    // The first call may reach Temporal before the embedded worker has bundled the new code and polls.
    for (let attempt = 0; attempt < 5; attempt++) {
      stdout = await runShell(code);
      if (outputMatches(example.expected, stdout)) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(stdout.trim()).toBe(example.expected.text.trim());
  });
});
