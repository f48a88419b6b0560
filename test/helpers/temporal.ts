// Direct access to the run's Temporal, for assertions on what Flowgate did there (its history).
import { Client, Connection } from "@temporalio/client";
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
