// One log line per call, written when the answer has gone out: method, path, HTTP status, time taken and,
// for an RPC, the procedure and its Connect code (gRPC answers 200 whatever the code, so the status alone
// would hide failures). Fastify's default is two lines per request ("incoming request", "request
// completed"), which costs a plain route half its throughput; the RPC layer fills in the call's record
// instead of logging a line of its own.
import { createContextKey } from "@connectrpc/connect";
import { trace } from "@opentelemetry/api";
import type { ClientCertificate } from "../auth/index.js";
import type { ProtocolLabel, TraceContext } from "../observability/index.js";
import { clientCertificateOf } from "./tls.js";
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from "fastify";

/** What the RPC layer learnt about a call, for its one log line. */
export interface CallRecord {
  /** The request's logger; once the caller is known, a child that names it. */
  log: FastifyBaseLogger;
  /** The authenticated caller ("key:billing"); absent with authentication off. */
  caller?: string;
  /** The remote address: who the caller is, for the per-caller limits, when authentication is off. */
  readonly address: string | undefined;
  /** How the call came in; "http" until an RPC route says otherwise. */
  protocol?: ProtocolLabel;
  procedure?: string;
  /** The Connect code of a failed call ("not_found"); absent when it succeeded. */
  code?: string;
  /** The failure's message, as the client got it. */
  reason?: string;
  /**
   * The client certificate the call's TLS connection presented, for authentication. It rides here, on the
   * record Connect's context carries to the interceptor, because the interceptor sees only headers otherwise,
   * and a header is whatever the client says.
   */
  readonly clientCertificate?: ClientCertificate | undefined;
  /** The call's trace context (its server span) when tracing is on: what its Temporal calls continue. */
  trace?: TraceContext;
}

/** The request's call record (and its logger, carrying the request id), for handlers and interceptors. */
export const kCall = createContextKey<CallRecord | undefined>(undefined, { description: "call record" });

const records = new WeakMap<FastifyRequest, CallRecord>();

/** The record of `req`'s call, created on first use. */
export function callRecordOf(req: FastifyRequest): CallRecord {
  const found = records.get(req);
  if (found !== undefined) return found;
  const record: CallRecord = { log: req.log, address: req.raw.socket?.remoteAddress, clientCertificate: clientCertificateOf(req.raw.socket) };
  records.set(req, record);
  return record;
}

/**
 * Fastify's log lines, one per request: nothing when it arrives, one line at info when its answer has gone
 * out (a failed answer at error, with the error). Fastify's other lines keep their defaults.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {
    // The request's one line is written when it completes.
  }

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const record = records.get(req);
    const line = {
      req: { method: req.method, url: req.url, remoteAddress: req.raw.socket?.remoteAddress },
      res: { statusCode: reply.statusCode },
      responseTime: Math.round(reply.elapsedTime * 100) / 100,
      protocol: record?.protocol,
      rpc: record?.procedure,
      caller: record?.caller,
      code: record?.code,
      reason: record?.reason,
      trace_id: record?.trace === undefined ? undefined : trace.getSpanContext(record.trace)?.traceId,
    };
    if (error) reply.log.error({ ...line, err: error }, "request errored");
    else reply.log.info(line, "request");
  }
}
