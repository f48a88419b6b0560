// A server-streaming Connect answer -> a REST stream, SSE or NDJSON (the wire rules are in sse.ts). Each
// message is written as soon as the handler yields it; heartbeats keep an idle stream open through proxies.
//
// The HTTP status is chosen by what comes first: a message or a heartbeat commits a 200 (errors after that
// go in-band, as the stream's last frame); a failure before either is answered as unary REST answers it,
// with the code's HTTP status and the Connect error body. So a request refused at once (InvalidArgument,
// NotFound) gets a plain 4xx, while a stream that stays idle before its first message still gets its
// heartbeats (a 200 committed by a heartbeat carries only the stream's own headers: the handler's are not
// known yet). HEAD gets the same status and headers a GET would, and no stream: the call is canceled once
// the status is known.
import { fromBinary, toJson, type DescMessage, type DescMethod, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressedFlag, pipe, transformSplitEnvelope, type EnvelopedMessage, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus, endStreamFlag, endStreamFromJson, errorToJson } from "@connectrpc/connect/protocol-connect";
import type { FastifyReply, FastifyRequest } from "fastify";
import { restError } from "../errors.js";
import type { HttpBinding } from "./mapping.js";
import { HOP_HEADERS } from "./request.js";
import { CONTENT_TYPE_BY_FORMAT, eventIdReader, formatError, formatHeartbeat, formatMessage, negotiateStreamFormat } from "./sse.js";

export interface StreamResponseOptions {
  /** Milliseconds without a write after which a heartbeat is written. */
  readonly heartbeatMs: number;
  /** The call's controller: aborted here when the writer stops reading before the stream ends (HEAD). */
  readonly abort: AbortController;
}

/** Frames come from this server's own handler, whose messages the router already bounds. */
const FRAME_MAX_BYTES = 0xffffffff;

/** Answers one REST call of a server-streaming RPC from its pending Connect streaming answer. */
export async function writeStreamResponse(
  method: DescMethod,
  binding: HttpBinding,
  call: Promise<UniversalServerResponse>,
  req: FastifyRequest,
  reply: FastifyReply,
  options: StreamResponseOptions,
): Promise<void> {
  const format = negotiateStreamFormat(req.headers.accept);
  const eventIdOf = eventIdReaderOf(method.output);
  const head = req.method === "HEAD";
  const raw = reply.raw;
  let committed = false;
  let gone = false;
  raw.once("close", () => (gone = true));
  const open = () => !gone && !raw.writableEnded;

  /** Sends the 200 and the stream's headers; the reply is ours to write from now on. */
  const commit = (response: UniversalServerResponse | undefined) => {
    committed = true;
    reply.hijack();
    // Headers set on the reply by hooks live on the reply until send; this writes the raw response.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) raw.setHeader(name, value);
    }
    response?.header?.forEach((value, name) => {
      if (!HOP_HEADERS.has(name) && !name.startsWith("connect-")) raw.setHeader(name, value);
    });
    raw.setHeader("content-type", CONTENT_TYPE_BY_FORMAT[format]);
    // Every message must reach the client when it is produced: no caching, no buffering in nginx & co.
    raw.setHeader("cache-control", "no-cache");
    raw.setHeader("x-accel-buffering", "no");
    raw.writeHead(200);
    if (head) {
      raw.end();
      options.abort.abort(new ConnectError("HEAD: the stream is not read", Code.Canceled));
    } else {
      raw.flushHeaders();
    }
  };

  const heartbeat = setTimeout(function beat() {
    if (!open()) return;
    if (!committed) commit(undefined);
    if (!open()) return;
    raw.write(formatHeartbeat(format));
    heartbeat.refresh();
  }, options.heartbeatMs);

  /** Writes a frame, waiting while the client reads slower than the handler produces. */
  const write = async (text: string) => {
    heartbeat.refresh();
    if (!raw.write(text)) await drainedOrClosed(raw);
  };

  const fail = async (error: ConnectError, response?: UniversalServerResponse) => {
    clearTimeout(heartbeat); // nothing more to keep open, and no heartbeat may commit a 200 meanwhile
    if (!open()) return;
    if (!committed) {
      response?.header?.forEach((value, name) => {
        if (!HOP_HEADERS.has(name) && !name.startsWith("connect-")) void reply.header(name, value);
      });
      error.metadata.forEach((value, name) => {
        if (!HOP_HEADERS.has(name)) void reply.header(name, value);
      });
      const { status, body } = restError(error);
      await reply.code(status).type("application/json").send(body);
      return;
    }
    raw.end(formatError(format, errorToJson(error, undefined)));
  };

  let frames: AsyncIterator<EnvelopedMessage> | undefined;
  try {
    const response = await call;
    if (response.status !== 200) {
      // Connect's own refusals (unsupported media type, wrong method): REST never sends those, but say so.
      const code = codeFromHttpStatus(response.status);
      return await fail(new ConnectError(`the streaming handler answered HTTP ${response.status}`, code === Code.Unknown ? Code.Internal : code), response);
    }
    frames = pipe(response.body ?? emptyBody(), transformSplitEnvelope(FRAME_MAX_BYTES))[Symbol.asyncIterator]();
    for (;;) {
      const next = await frames.next();
      if (!open()) return;
      if (next.done === true) {
        return await fail(new ConnectError("protocol error: the stream ended without an end-of-stream frame", Code.Internal), response);
      }
      const frame = next.value;
      if ((frame.flags & endStreamFlag) === endStreamFlag) {
        const { error } = endStreamFromJson(frame.data);
        if (error !== undefined) return await fail(error, response);
        if (!committed) commit(response);
        if (open()) raw.end();
        return;
      }
      if ((frame.flags & compressedFlag) === compressedFlag) {
        // Never asked for: request.ts forwards no Connect compression header.
        return await fail(new ConnectError("protocol error: unexpected compressed frame", Code.Internal), response);
      }
      const json = toJson(method.output, fromBinary(method.output, frame.data), { useProtoFieldName: true, alwaysEmitImplicit: true }) as JsonObject;
      if (!committed) commit(response);
      if (!open()) return;
      const value: JsonValue = binding.responseBody === "" ? json : (json[binding.responseBody] ?? null);
      await write(formatMessage(format, value, eventIdOf?.(json)));
    }
  } catch (err) {
    await fail(ConnectError.from(err, Code.Internal));
  } finally {
    clearTimeout(heartbeat);
    // Stopped reading before the end (client gone, HEAD, a failure): this ends the handler's call too.
    if (frames?.return !== undefined) void frames.return(undefined).catch(() => undefined);
  }
}

const eventIdReaders = new WeakMap<DescMessage, ReturnType<typeof eventIdReader>>();

/** The output message's event id reader, built once per message type. */
function eventIdReaderOf(output: DescMessage): ReturnType<typeof eventIdReader> {
  if (!eventIdReaders.has(output)) eventIdReaders.set(output, eventIdReader(output));
  return eventIdReaders.get(output);
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}

function drainedOrClosed(raw: FastifyReply["raw"]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      raw.off("drain", done);
      raw.off("close", done);
      resolve();
    };
    raw.once("drain", done);
    raw.once("close", done);
  });
}
