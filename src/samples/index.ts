// The samples that ship with Flowgate: their workflow code (workflows.ts, bundled by the worker, never
// imported by the API), their activities (activities.ts, run by the worker) and their registration (types.ts).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { placeOrder, priceItems, writeSection } from "./activities.js";

export { SAMPLE_CONFIG_MAPS, SAMPLE_TRIGGERS, SAMPLE_WORKFLOW_TYPES } from "./types.js";

/** The activities the sample workflows call; a worker that runs the samples registers them. */
export const SAMPLE_ACTIVITIES = { priceItems, placeOrder, writeSection } as const;

/** The workflows module the worker bundles for the samples. */
export const SAMPLE_WORKFLOWS_PATH = fileURLToPath(
  // workflows.ts from source, workflows.js once compiled to dist/.
  new URL(`./workflows${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
