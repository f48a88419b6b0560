import { Client, Connection, type ConnectionOptions } from "@temporalio/client";
import type { TemporalConnectionConfig } from "../config.js";

/** Where and how to reach Temporal: an address and namespace, plus TLS and credentials for a secured cluster. */
export type TemporalTarget = Pick<TemporalConnectionConfig, "address" | "namespace"> &
  Partial<Pick<TemporalConnectionConfig, "tls" | "apiKey" | "metadata">>;

/** One Temporal connection and client per process; every request shares them. */
export interface TemporalClient {
  readonly client: Client;
  readonly connection: Connection;
  readonly namespace: string;
  close(): Promise<void>;
}

function connectionOptions(target: TemporalTarget): ConnectionOptions {
  return {
    address: target.address,
    tls: target.tls,
    apiKey: target.apiKey,
    metadata: target.metadata === undefined ? undefined : { ...target.metadata },
  };
}

/**
 * Connects lazily: the API starts (and reports "not ready") while Temporal is down, and the first call
 * after Temporal comes up connects.
 */
export function createTemporalClient(target: TemporalTarget): TemporalClient {
  const connection = Connection.lazy(connectionOptions(target));
  const client = new Client({ connection, namespace: target.namespace, identity: `flowgate@${process.pid}` });
  return {
    client,
    connection,
    namespace: target.namespace,
    close: () => connection.close(),
  };
}

/** Why Temporal did not answer a start-up check. */
export type TemporalCheck =
  | { readonly ok: true }
  /** Temporal cannot be reached now; it may come up later (the API starts, not ready). */
  | { readonly ok: false; readonly kind: "unreachable"; readonly message: string }
  /** A configuration mistake that no retry fixes: wrong CA, refused credentials, no such namespace. */
  | { readonly ok: false; readonly kind: "misconfigured"; readonly message: string };

/** Asks Temporal once for the namespace, and says plainly what went wrong when it does not answer. */
export async function checkTemporal(target: TemporalTarget, timeoutMs: number): Promise<TemporalCheck> {
  const connection = Connection.lazy({ ...connectionOptions(target), connectTimeout: timeoutMs });
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.describeNamespace({ namespace: target.namespace }));
    return { ok: true };
  } catch (err) {
    return classify(err, target);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

function classify(err: unknown, target: TemporalTarget): TemporalCheck {
  const { code, details } = grpcStatusOf(err);
  const text = details ?? (err instanceof Error ? err.message : String(err));
  const at = `Temporal at ${target.address}`;
  if (/certificate|self[- ]signed|CERT_|unable to verify|SSL routines|wrong version number|handshake/i.test(text)) {
    return {
      ok: false,
      kind: "misconfigured",
      message:
        `${at}: TLS failed: ${text}. ` +
        (target.tls === undefined
          ? "The server may want TLS: set TEMPORAL_TLS=true (or TEMPORAL_TLS_SERVER_CA_CERT_PATH)."
          : "Check TEMPORAL_TLS_SERVER_CA_CERT_PATH (the CA that signed the server's certificate) and TEMPORAL_TLS_SERVER_NAME."),
    };
  }
  if (code === 16 || code === 7) {
    return {
      ok: false,
      kind: "misconfigured",
      message: `${at} refused Flowgate's credentials: ${text}. Check TEMPORAL_API_KEY or the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH).`,
    };
  }
  if (code === 5) {
    return { ok: false, kind: "misconfigured", message: `${at} has no namespace "${target.namespace}": ${text}. Check TEMPORAL_NAMESPACE.` };
  }
  return { ok: false, kind: "unreachable", message: `${at} did not answer for namespace "${target.namespace}": ${text}` };
}

function grpcStatusOf(err: unknown): { code: number | undefined; details: string | undefined } {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const { code, details } = e as { code?: unknown; details?: unknown };
    if (typeof code === "number") return { code, details: typeof details === "string" ? details : e.message };
  }
  return { code: undefined, details: undefined };
}

/**
 * Waits until Temporal answers for `namespace` (the dev server takes a few seconds to come up). Throws
 * after `timeoutMs` with the last error's message.
 */
export async function waitForTemporal(target: TemporalTarget, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: TemporalCheck = { ok: false, kind: "unreachable", message: "not checked" };
  while (Date.now() < deadline && !signal?.aborted) {
    last = await checkTemporal(target, Math.min(2000, Math.max(1, deadline - Date.now())));
    if (last.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${last.ok ? "" : last.message} (waited ${timeoutMs} ms)`);
}
