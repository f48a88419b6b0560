// connectrpc.conformance.v1.ConformanceService, as the suite describes it (docs/testing_servers.md of
// connectrpc/conformance): every request says what to answer (headers, data, an error, trailers, a delay),
// and every answer echoes what the server saw (headers, timeout, the request messages, Connect GET query
// parameters) so the reference client can check that nothing was lost on the way.
import { setTimeout as sleep } from "node:timers/promises";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  BidiStreamRequestSchema,
  ClientStreamRequestSchema,
  type ConformanceService,
  type ConformancePayload_RequestInfo,
  ConformancePayload_RequestInfoSchema,
  type Error as ConformanceError,
  type Header,
  IdempotentUnaryRequestSchema,
  ServerStreamRequestSchema,
  type StreamResponseDefinition,
  type UnaryResponseDefinition,
  UnaryRequestSchema,
} from "./gen/connectrpc/conformance/v1/service_pb.js";

type RequestInfoInit = MessageInitShape<typeof ConformancePayload_RequestInfoSchema>;

/**
 * The implementation. `unimplemented` is left out on purpose: the suite checks that the framework itself
 * answers Unimplemented for a method the service does not implement.
 */
export const conformanceService: Omit<ServiceImpl<typeof ConformanceService>, "unimplemented"> = {
  async unary(req, ctx) {
    return unaryAnswer(req.responseDefinition, [anyPack(UnaryRequestSchema, req)], ctx);
  },

  async idempotentUnary(req, ctx) {
    return unaryAnswer(req.responseDefinition, [anyPack(IdempotentUnaryRequestSchema, req)], ctx);
  },

  async clientStream(reqs, ctx) {
    // Only the first message's definition counts.
    let definition: UnaryResponseDefinition | undefined;
    const received: Any[] = [];
    for await (const req of reqs) {
      if (received.length === 0) definition = req.responseDefinition;
      received.push(anyPack(ClientStreamRequestSchema, req));
    }
    return unaryAnswer(definition, received, ctx);
  },

  async *serverStream(req, ctx) {
    const definition = req.responseDefinition;
    setHeaders(ctx, definition);
    const received = [anyPack(ServerStreamRequestSchema, req)];
    let sent = 0;
    for (const data of definition?.responseData ?? []) {
      await delay(definition?.responseDelayMs, ctx);
      // Only the first response echoes the request.
      yield { payload: { data, requestInfo: sent === 0 ? requestInfo(ctx, received) : undefined } };
      sent++;
    }
    if (definition?.error) throw toConnectError(definition.error, sent === 0 ? requestInfo(ctx, received) : undefined);
  },

  async *bidiStream(reqs, ctx) {
    let definition: StreamResponseDefinition | undefined;
    let fullDuplex = false;
    let first = true;
    // The requests not echoed yet: all of them in half duplex, those since the last response in full duplex.
    let received: Any[] = [];
    let sent = 0;
    for await (const req of reqs) {
      if (first) {
        first = false;
        definition = req.responseDefinition;
        fullDuplex = req.fullDuplex;
        setHeaders(ctx, definition);
      }
      received.push(anyPack(BidiStreamRequestSchema, req));
      if (!fullDuplex) continue;
      // Full duplex: one response per request, while there are responses to send; then the error, if any.
      const data = definition?.responseData[sent];
      if (data === undefined) break;
      await delay(definition?.responseDelayMs, ctx);
      yield { payload: { data, requestInfo: sent === 0 ? requestInfo(ctx, received) : { requests: received } } };
      sent++;
      received = [];
    }
    // Half duplex: every response, now that the client is done. Full duplex: those the requests did not use up.
    const responses = definition?.responseData ?? [];
    for (; sent < responses.length; sent++) {
      await delay(definition?.responseDelayMs, ctx);
      yield { payload: { data: responses[sent], requestInfo: sent === 0 ? requestInfo(ctx, received) : undefined } };
    }
    if (definition?.error) throw toConnectError(definition.error, sent === 0 ? requestInfo(ctx, received) : undefined);
  },
};

/** Unary and client-stream answers: the payload echoing the requests, or the error carrying that echo. */
async function unaryAnswer(definition: UnaryResponseDefinition | undefined, received: Any[], ctx: HandlerContext) {
  setHeaders(ctx, definition);
  const info = requestInfo(ctx, received);
  if (definition?.response.case === "error") throw toConnectError(definition.response.value, info);
  await delay(definition?.responseDelayMs, ctx);
  const data = definition?.response.case === "responseData" ? definition.response.value : undefined;
  return { payload: { data, requestInfo: info } };
}

function setHeaders(ctx: HandlerContext, definition: { responseHeaders: Header[]; responseTrailers: Header[] } | undefined): void {
  for (const { name, value } of definition?.responseHeaders ?? []) for (const v of value) ctx.responseHeader.append(name, v);
  for (const { name, value } of definition?.responseTrailers ?? []) for (const v of value) ctx.responseTrailer.append(name, v);
}

function requestInfo(ctx: HandlerContext, requests: Any[]): RequestInfoInit {
  const timeoutMs = ctx.timeoutMs();
  return {
    requestHeaders: [...ctx.requestHeader].map(([name, value]) => ({ name, value: [value] })),
    timeoutMs: timeoutMs === undefined ? undefined : BigInt(timeoutMs),
    requests,
    // Only a Connect GET carries its request in the query string.
    connectGetInfo:
      ctx.requestMethod === "GET"
        ? { queryParams: [...new URL(ctx.url, "http://localhost").searchParams].map(([name, value]) => ({ name, value: [value] })) }
        : undefined,
  };
}

/** The error the request asked for; its details go out as they came (packed Any), plus the echo. */
function toConnectError(definition: ConformanceError, echo: RequestInfoInit | undefined): ConnectError {
  // The suite's Code enum has the Connect codes' numbers.
  const err = new ConnectError(definition.message ?? "", definition.code as number);
  for (const detail of definition.details) {
    err.details.push({ type: detail.typeUrl.slice(detail.typeUrl.lastIndexOf("/") + 1), value: detail.value });
  }
  if (echo !== undefined) {
    err.details.push({ desc: ConformancePayload_RequestInfoSchema, value: create(ConformancePayload_RequestInfoSchema, echo) satisfies ConformancePayload_RequestInfo });
  }
  return err;
}

/**
 * Waits as asked, but no longer than the call lives. When its deadline or the client's cancel ends it, the
 * call fails with that reason: an error thrown while a stream is being written goes out as it is (connect-es
 * sends anything but a ConnectError as Internal, and Flowgate's error interceptor does not see it).
 */
async function delay(ms: number | undefined, ctx: HandlerContext): Promise<void> {
  if (!ms) return;
  try {
    await sleep(ms, undefined, { signal: ctx.signal });
  } catch (err) {
    throw ctx.signal.aborted ? ConnectError.from(ctx.signal.reason) : err;
  }
}
