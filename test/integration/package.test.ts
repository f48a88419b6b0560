// Flowgate as another project's dependency: the packed files are the built dist/ (JavaScript and type
// declarations) and the protos, never the sources or tests; a project that installs it imports "flowgate",
// "flowgate/client" and "flowgate/gen/..." through the exports map, at run time and in its type check, and
// its mistakes are type errors. The global setup has built dist/ as `npm pack` would (tsconfig.build.json).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/tools.js";

const run = promisify(execFile);
const TSC = path.join(REPO_ROOT, "node_modules/typescript/bin/tsc");
let project: string;

beforeAll(async () => {
  // A project that depends on Flowgate: node_modules/flowgate is the package (as `npm install` links a folder).
  project = await mkdtemp(path.join(os.tmpdir(), "flowgate-consumer-"));
  await mkdir(path.join(project, "node_modules"));
  await symlink(REPO_ROOT, path.join(project, "node_modules/flowgate"), "dir");
  await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "shop", type: "module", dependencies: { flowgate: "*" } }));
  await writeFile(
    path.join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        typeRoots: [path.join(REPO_ROOT, "node_modules/@types")],
      },
    }),
  );
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

describe("the package", () => {
  it("packs the built JavaScript, its declarations and the protos, and nothing else", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO_ROOT });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "dist/src/index.js",
        "dist/src/index.d.ts",
        "dist/src/main.js",
        "dist/src/cli/main.js",
        "dist/src/samples/workflows.js",
        "dist/gen/flowgate/workflow/v1/workflow_service_pb.js",
        "dist/gen/flowgate/workflow/v1/workflow_service_pb.d.ts",
        "proto/flowgate/workflow/v1/workflow_service.proto",
        "openapi/flowgate.openapi.json",
      ]),
    );
    expect(files.filter((f) => !/^(dist\/(src|gen)\/|proto\/|openapi\/flowgate\.openapi\.json$|package\.json$|README\.md$|LICENSE)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".tsbuildinfo"))).toEqual([]);
  });

  it("installs the flowgate command: its bin is the built command-line tool", async () => {
    const pkg = JSON.parse(await readFile(path.join(project, "node_modules/flowgate/package.json"), "utf8")) as { bin: Record<string, string> };
    const bin = path.join(project, "node_modules/flowgate", pkg.bin.flowgate!);
    expect((await readFile(bin, "utf8")).startsWith("#!/usr/bin/env node\n")).toBe(true);
    const { stdout } = await run(process.execPath, [bin, "--help"]);
    expect(stdout).toMatch(/^flowgate: start, watch and control Temporal workflows/);
  });

  it("is imported by name, with its generated clients, at run time", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { createFlowgate, HandlerError } = await import("flowgate");
         const { WorkflowService } = await import("flowgate/gen/flowgate/workflow/v1/workflow_service_pb.js");
         const { createFlowgateClient } = await import("flowgate/client");
         const fg = createFlowgateClient({ baseUrl: "http://localhost:8000" });
         console.log(typeof createFlowgate, new HandlerError("not_found", "x").code, WorkflowService.typeName, typeof fg.start);`,
      ],
      { cwd: project },
    );
    expect(stdout.trim()).toBe("function not_found flowgate.workflow.v1.WorkflowService function");
  });

  it("type-checks an application against its declarations, and refuses one that misuses them", async () => {
    await writeFile(
      path.join(project, "app.ts"),
      `import { createFlowgate, HandlerError, type AppHandler } from "flowgate";
import { createFlowgateClient } from "flowgate/client";
import { WorkflowService } from "flowgate/gen/flowgate/workflow/v1/workflow_service_pb.js";
const handler: AppHandler = { testAuth: () => { throw new HandlerError("unauthenticated", "no"); } };
export const flowgate = createFlowgate({
  workflows: new URL("./workflows.ts", import.meta.url),
  activities: ({ configs }) => ({ settings: async () => (await configs.get("shop")).config }),
  handler,
  triggers: [{ id: "t", workflowType: "w", filter: { types: ["x"] } }],
  lifespan: { startup: ({ logger }) => logger.info("up") },
});
export const method: string = WorkflowService.method.startWorkflow.name;
export const run = createFlowgateClient({ baseUrl: "http://localhost:8000" }).start("greet", { name: "Ada" });
`,
    );
    await run(process.execPath, [TSC, "-p", project]);

    await writeFile(path.join(project, "app.ts"), `import { createFlowgate } from "flowgate";\ncreateFlowgate({ triggers: [{ id: 1, workflowType: "w", filter: {} }] });\n`);
    const failed = await run(process.execPath, [TSC, "-p", project]).then(
      () => "",
      (err: { stdout: string }) => err.stdout,
    );
    expect(failed).toMatch(/app\.ts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  }, 60_000);
});
