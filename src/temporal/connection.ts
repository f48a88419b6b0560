import { Client, Connection } from "@temporalio/client";

export interface TemporalTarget {
  readonly address: string;
  readonly namespace: string;
}

/** One Temporal connection and client per process; every request shares them. */
export interface TemporalClient {
  readonly client: Client;
  readonly connection: Connection;
  readonly namespace: string;
  close(): Promise<void>;
}

/**
 * Connects lazily: the API starts (and reports "not ready") while Temporal is down, and the first call
 * after Temporal comes up connects.
 */
export function createTemporalClient(target: TemporalTarget): TemporalClient {
  const connection = Connection.lazy({ address: target.address });
  const client = new Client({ connection, namespace: target.namespace, identity: `flowgate@${process.pid}` });
  return {
    client,
    connection,
    namespace: target.namespace,
    close: () => connection.close(),
  };
}

/**
 * Waits until Temporal answers for `namespace` (the dev server takes a few seconds to come up). Throws
 * after `timeoutMs` with the last error's message.
 */
export async function waitForTemporal(target: TemporalTarget, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !signal?.aborted) {
    const connection = Connection.lazy({ address: target.address, connectTimeout: 1000 });
    try {
      await connection.withDeadline(Date.now() + 2000, () =>
        connection.workflowService.describeNamespace({ namespace: target.namespace }),
      );
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await connection.close().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `Temporal at ${target.address} did not answer for namespace "${target.namespace}" within ${timeoutMs} ms: ${
      lastError instanceof Error ? lastError.message : String(lastError)
    }`,
  );
}
