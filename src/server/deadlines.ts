// A call's deadline as its caller sent it: `grpc-timeout` (gRPC, gRPC-Web; also taken on REST, as
// gRPC-gateway does) or `connect-timeout-ms` (Connect, REST). Connect parses these headers itself; this
// layer only keeps a deadline longer than a Node timer can hold from turning into an immediate one.
import type { IncomingHttpHeaders } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import * as protoConnect from "@connectrpc/connect/protocol-connect";
import * as protoGrpc from "@connectrpc/connect/protocol-grpc";

/** The longest delay `setTimeout` takes (2^31 - 1 ms, 24.8 days); a longer one fires after 1 ms. */
export const MAX_DEADLINE_MS = 2 ** 31 - 1;

/** The milliseconds a `grpc-timeout` value stands for (Connect's own parser), or undefined when it is not one. */
function grpcTimeoutMs(value: string): number | undefined {
  const parsed = protoGrpc.parseTimeout(value, Number.POSITIVE_INFINITY);
  return parsed.error === undefined ? parsed.timeoutMs : undefined;
}

/**
 * Clamps the deadline headers in place to MAX_DEADLINE_MS. The gRPC spec allows `99999999H` (11,000
 * years) and Connect ten digits of milliseconds (115 days); Connect hands either to `setTimeout`, which
 * fires after 1 ms when the delay overflows, so the caller who asked for the most time got none.
 * Malformed values are left for Connect to refuse.
 */
export function clampDeadlineHeaders(headers: IncomingHttpHeaders): void {
  const grpc = headers["grpc-timeout"];
  if (typeof grpc === "string" && (grpcTimeoutMs(grpc) ?? 0) > MAX_DEADLINE_MS) {
    headers["grpc-timeout"] = `${Math.floor(MAX_DEADLINE_MS / 1000)}S`;
  }
  const connect = headers["connect-timeout-ms"];
  if (typeof connect === "string" && (protoConnect.parseTimeout(connect, Number.POSITIVE_INFINITY).timeoutMs ?? 0) > MAX_DEADLINE_MS) {
    headers["connect-timeout-ms"] = String(MAX_DEADLINE_MS);
  }
}

/**
 * A REST call's deadline as a `connect-timeout-ms` value: that header as given, else `grpc-timeout`
 * converted (the header gRPC-gateway clients send), else undefined. A malformed `grpc-timeout` is the
 * client's mistake: InvalidArgument naming it, as Connect does for its own header.
 */
export function restTimeoutMs(headers: IncomingHttpHeaders): string | undefined {
  const connect = headers["connect-timeout-ms"];
  if (connect !== undefined) return Array.isArray(connect) ? connect[0] : connect;
  const grpc = headers["grpc-timeout"];
  if (grpc === undefined) return undefined;
  const value = Array.isArray(grpc) ? grpc[0]! : grpc;
  const ms = grpcTimeoutMs(value);
  if (ms === undefined) {
    throw new ConnectError(`the grpc-timeout header ${JSON.stringify(value)} is not a timeout (1 to 8 digits and a unit: H, M, S, m, u or n)`, Code.InvalidArgument);
  }
  return String(Math.min(Math.ceil(ms), MAX_DEADLINE_MS));
}
