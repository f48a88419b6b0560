// Direct access to the run's Temporal, for assertions on what Flowgate did there (its history).
import { Client, Connection } from "@temporalio/client";
import { temporal } from "@temporalio/proto";
import { inject } from "vitest";
import { TEST_NAMESPACE } from "./constants.js";

/** The history events of a workflow's latest run (or of `runId`). */
export async function historyOf(workflowId: string, runId?: string) {
  const connection = await Connection.connect({ address: inject("temporalAddress") });
  try {
    const client = new Client({ connection, namespace: TEST_NAMESPACE });
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    return history.events ?? [];
  } finally {
    await connection.close();
  }
}

/**
 * The run ids a workflow id holds, newest first, as Temporal's visibility lists them (immediate on the dev
 * server's SQLite store).
 */
export async function runIdsOf(workflowId: string): Promise<string[]> {
  const connection = await Connection.connect({ address: inject("temporalAddress") });
  try {
    const client = new Client({ connection, namespace: TEST_NAMESPACE });
    const runIds: string[] = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runIds.push(run.runId);
    return runIds;
  } finally {
    await connection.close();
  }
}

/**
 * Registers a Keyword search attribute in the test namespace (the dev server preregisters none of the
 * custom ones), so tests can index runs by it. Registering one that exists is a no-op.
 */
export async function ensureKeywordSearchAttribute(name: string): Promise<void> {
  const connection = await Connection.connect({ address: inject("temporalAddress") });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace: TEST_NAMESPACE });
    if (existing.customAttributes?.[name] !== undefined) return;
    await connection.operatorService.addSearchAttributes({
      namespace: TEST_NAMESPACE,
      searchAttributes: { [name]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
  } finally {
    await connection.close();
  }
}

/** Deletes a run from Temporal, as retention eventually does: for what happens to whoever still waits on it. */
export async function deleteRun(run: { workflowId: string; runId: string }): Promise<void> {
  const connection = await Connection.connect({ address: inject("temporalAddress") });
  try {
    await connection.workflowService.deleteWorkflowExecution({ namespace: TEST_NAMESPACE, workflowExecution: run });
  } finally {
    await connection.close();
  }
}
