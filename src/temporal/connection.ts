import tls from "node:tls";
import { Client, Connection, type ConnectionOptions } from "@temporalio/client";
import type { TemporalConnectionConfig } from "../config.js";
import type { Logger } from "pino";
import { grpcStatusOf } from "./errors.js";
import { NativeLink } from "./native.js";

/** Where and how to reach Temporal: an address and namespace, plus TLS and credentials for a secured cluster. */
export type TemporalTarget = Pick<TemporalConnectionConfig, "address" | "namespace"> &
  Partial<Pick<TemporalConnectionConfig, "tls" | "apiKey" | "metadata">>;

/** One Temporal connection and client per process; every request shares them. */
export interface TemporalClient {
  readonly client: Client;
  readonly connection: Connection;
  readonly namespace: string;
  /** The same cluster over the SDK's Rust core, for the unary calls (long polls stay on grpc-js). */
  readonly native: NativeLink;
  close(): Promise<void>;
}

/**
 * How soon a connection that lost Temporal tries again. grpc-js backs off from 1 s up to 120 s by default, so
 * after a long outage Flowgate would stay unavailable for up to two minutes once Temporal is back; capped
 * at 2 s (with grpc-js's jitter), it answers within a few seconds of Temporal.
 */
const RECONNECT_BACKOFF = {
  "grpc.initial_reconnect_backoff_ms": 250,
  "grpc.max_reconnect_backoff_ms": 2000,
} as const;

function connectionOptions(target: TemporalTarget): ConnectionOptions {
  return {
    address: target.address,
    tls: target.tls,
    apiKey: target.apiKey,
    metadata: target.metadata === undefined ? undefined : { ...target.metadata },
    channelArgs: RECONNECT_BACKOFF,
  };
}

/**
 * Connects lazily: the API starts (and reports "not ready") while Temporal is down, and the first call
 * after Temporal comes up connects.
 */
export function createTemporalClient(target: TemporalTarget, log?: Logger): TemporalClient {
  const connection = Connection.lazy(connectionOptions(target));
  const identity = `flowgate@${process.pid}`;
  const client = new Client({ connection, namespace: target.namespace, identity });
  const native = new NativeLink(target, identity, log);
  return {
    client,
    connection,
    namespace: target.namespace,
    native,
    close: async () => {
      await Promise.all([native.close(), connection.close()]);
    },
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
  let connection: Connection | undefined;
  try {
    const lazy = Connection.lazy({ ...connectionOptions(target), connectTimeout: timeoutMs });
    connection = lazy;
    await lazy.withDeadline(Date.now() + timeoutMs, () => lazy.workflowService.describeNamespace({ namespace: target.namespace }));
    return { ok: true };
  } catch (err) {
    const check = classify(err, target);
    // grpc-js reports a refused connection or a failed TLS handshake only as a call that never got a
    // connection ("waiting for metadata filters"); ask the socket and TLS directly what went wrong.
    if (!check.ok && check.kind === "unreachable") return (await diagnoseConnection(target, timeoutMs)) ?? check;
    return check;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Network errors, in words; any other failure that is not a TLS one is an outage too (a retry may fix it). */
const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "nothing listens there (connection refused)",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve (yet)",
  EHOSTUNREACH: "the host cannot be reached",
  ENETUNREACH: "the network cannot be reached",
  ETIMEDOUT: "no answer",
  ECONNRESET: "the connection was reset",
};

/** Failures that only a change of settings fixes: certificates, names, and TLS alerts. */
const TLS_MISTAKE = /^ERR_SSL_|^ERR_TLS_|CERT|SELF_SIGNED|UNABLE_TO_/;

/**
 * Why a connection to `target` fails: the network (unreachable), TLS (misconfigured: untrusted certificate,
 * wrong name, refused client certificate), or a TLS server Flowgate talks plaintext to. Undefined when the
 * connection itself is fine.
 */
async function diagnoseConnection(target: TemporalTarget, timeoutMs: number): Promise<TemporalCheck | undefined> {
  const at = `Temporal at ${target.address}`;
  const { host, port } = splitAddress(target.address);
  const settings = target.tls === true ? {} : (target.tls ?? {});
  const handshake = await tlsHandshake(
    {
      host,
      port,
      servername: settings.serverNameOverride ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
      ca: settings.serverRootCACertificate === undefined ? undefined : Buffer.from(settings.serverRootCACertificate),
      cert: settings.clientCertPair === undefined ? undefined : Buffer.from(settings.clientCertPair.crt),
      key: settings.clientCertPair === undefined ? undefined : Buffer.from(settings.clientCertPair.key),
      // Without TLS configured, only ask whether the server speaks TLS at all.
      rejectUnauthorized: target.tls !== undefined,
      ALPNProtocols: ["h2"],
    },
    Math.min(timeoutMs, 5000),
  );
  if (target.tls === undefined) {
    // Any TLS answer, even a refusal, means the server wants TLS.
    const speaksTls = handshake.ok || (TLS_MISTAKE.test(handshake.code) && !/WRONG_VERSION_NUMBER/.test(handshake.code));
    if (speaksTls) {
      return { ok: false, kind: "misconfigured", message: `${at} speaks TLS, but Flowgate connects in plaintext: set TEMPORAL_TLS=true (or TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA).` };
    }
  } else if (!handshake.ok && TLS_MISTAKE.test(handshake.code)) {
    return { ok: false, kind: "misconfigured", message: `${at}: TLS failed: ${handshake.message} (${handshake.code}). ${tlsHint(handshake.code)}` };
  }
  if (handshake.ok) return undefined;
  return { ok: false, kind: "unreachable", message: `${at} did not answer: ${NETWORK_CODES[handshake.code] ?? `${handshake.message} (${handshake.code})`}` };
}

function tlsHint(code: string): string {
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE/.test(code)) {
    return "The server's certificate is not signed by a CA Flowgate trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed it.";
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return "The server's certificate is for another name: set TEMPORAL_TLS_SERVER_NAME to the name it carries.";
  }
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE/.test(code)) {
    return "The server refused Flowgate's client certificate (or wants one): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH.";
  }
  if (/WRONG_VERSION_NUMBER|EPROTO/.test(code)) return "The server may not speak TLS: check TEMPORAL_TLS.";
  return "Check TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME and the client certificate settings.";
}

type Handshake = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * A TLS handshake, then the HTTP/2 preface: with TLS 1.3 a server that refuses the client's certificate
 * says so only after the handshake, so success means the server answered the preface.
 */
function tlsHandshake(options: tls.ConnectionOptions, timeoutMs: number): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect(options);
    const done = (result: Handshake) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, code: "ETIMEDOUT", message: "no answer" }), timeoutMs);
    socket.once("secureConnect", () => {
      // The client preface and an empty SETTINGS frame; any answer means the connection was accepted.
      socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    });
    socket.once("data", () => done({ ok: true }));
    socket.once("error", (err: NodeJS.ErrnoException) => done({ ok: false, code: err.code ?? "ERROR", message: readableTlsError(err.message) }));
    socket.once("end", () => done({ ok: false, code: "ECONNRESET", message: "the server closed the connection" }));
  });
}

/** OpenSSL's "80..:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/..." as its reason alone. */
function readableTlsError(message: string): string {
  return /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1] ?? message;
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(address.slice(i + 1)) };
}

function classify(err: unknown, target: TemporalTarget): TemporalCheck {
  const { code, details } = grpcStatusOf(err);
  // Never a credential in a message that gets logged: grpc-js quotes a malformed header with its value.
  const text = details.replace(/\.+$/, "").replace(/Bearer\s+\S+/gi, "Bearer [redacted]");
  const at = `Temporal at ${target.address}`;
  if (code === 16 || code === 7) {
    return {
      ok: false,
      kind: "misconfigured",
      message: `${at} refused Flowgate's credentials: ${text}. Check TEMPORAL_API_KEY or the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH).`,
    };
  }
  if (code === 5) {
    // Not a reason to stop: a deployment may register the namespace after Flowgate starts. Not ready until then.
    return { ok: false, kind: "unreachable", message: `${at} has no namespace "${target.namespace}" (yet): ${text}. Check TEMPORAL_NAMESPACE` };
  }
  return { ok: false, kind: "unreachable", message: `${at} did not answer for namespace "${target.namespace}": ${text}` };
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
