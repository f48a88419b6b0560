// The samples that ship with Flowgate: their workflow code (workflows.ts, bundled by the worker, never
// imported by the API) and their registration (types.ts).
import path from "node:path";
import { fileURLToPath } from "node:url";

export { SAMPLE_WORKFLOW_TYPES } from "./types.js";

/** The workflows module the worker bundles for the samples. */
export const SAMPLE_WORKFLOWS_PATH = fileURLToPath(
  // workflows.ts from source, workflows.js once compiled to dist/.
  new URL(`./workflows${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
