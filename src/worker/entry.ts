// What the embedded worker bundles: the samples, the user's workflows module (FLOWGATE_WORKER_WORKFLOWS), or
// both. Temporal's bundler takes one entry module, so for both a small entry that re-exports them is
// written into the data folder.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { SAMPLE_WORKFLOW_TYPES, SAMPLE_WORKFLOWS_PATH } from "../samples/index.js";

export interface WorkflowSources {
  /** Bundle the sample workflows. */
  readonly samples: boolean;
  /** The user's workflows module, if any. */
  readonly userWorkflows: string | undefined;
  /** Where a generated entry may be written. */
  readonly dir: string;
}

/** The workflows module to bundle; undefined when there is nothing to run. */
export async function workflowsEntry(sources: WorkflowSources): Promise<string | undefined> {
  if (sources.userWorkflows === undefined) return sources.samples ? SAMPLE_WORKFLOWS_PATH : undefined;
  if (!sources.samples) return sources.userWorkflows;
  await mkdir(sources.dir, { recursive: true });
  const entry = path.join(sources.dir, "workflows.ts");
  // The samples by name: named exports take precedence over `export *`, so the samples keep their names
  // (the registry refuses a user type of the same name while the samples are on).
  const names = SAMPLE_WORKFLOW_TYPES.map((t) => t.name).join(", ");
  await writeFile(
    entry,
    "// Written by Flowgate for the embedded worker: the samples and your workflows, in one bundle.\n" +
      `export * from ${JSON.stringify(sources.userWorkflows)};\n` +
      `export { ${names} } from ${JSON.stringify(SAMPLE_WORKFLOWS_PATH)};\n`,
  );
  return entry;
}
