// connect-es reports some mistakes of the client's as Internal: a request body that is not valid protobuf
// ("parse binary: ...", while the same mistake in JSON is InvalidArgument), and a truncated compressed
// frame (found by the reliability suite's fuzzing). A frame flagged compressed on a call that declared no
// compression stays Internal: the gRPC compression specification requires that code, and the connectrpc
// conformance suite checks it. Both happen before any
// interceptor runs, so the error interceptor never sees them. This wrapper rewrites exactly those failures,
// on each protocol's wire form, so a client's malformed message is InvalidArgument everywhere. Remove it
// once connect-es reports InvalidArgument itself.
import { Code } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { passThrough } from "./iterables.js";

/** The messages connect-es gives these failures. */
const CLIENT_FAULTS = [
  "parse binary:",
  // A truncated gzip body (zlib's Z_BUF_ERROR); connect-node maps only Z_DATA_ERROR to InvalidArgument.
  "decompression failed",
];
const GRPC_INTERNAL = String(Code.Internal);
const GRPC_INVALID_ARGUMENT = String(Code.InvalidArgument);
/** The gRPC-Web trailer frame flag. */
const TRAILER_FLAG = 0x80;

export function reportParseErrorsAsInvalidArgument(handler: UniversalHandler): UniversalHandler {
  const wrapped = async (req: Parameters<UniversalHandler>[0]): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    if (res.status === 500 && res.header?.get("content-type")?.startsWith("application/json")) {
      return rewriteConnectError(res);
    }
    if (res.body === undefined) return res;
    return { ...res, body: rewriteStream(res.body, res.trailer) };
  };
  return Object.assign(wrapped, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}

/** Connect unary: the error is the JSON body of a 500. */
async function rewriteConnectError(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of res.body ?? []) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  try {
    const error = JSON.parse(bytes.toString("utf8")) as { code?: string; message?: string };
    if (error.code === "internal" && isParseMessage(error.message)) {
      const body = Buffer.from(JSON.stringify({ ...error, code: "invalid_argument" }));
      const header = new Headers(res.header);
      header.set("content-length", String(body.length));
      return { ...res, status: 400, header, body: once(body) };
    }
  } catch {
    // not a Connect error body: pass it through as it was
  }
  return { ...res, body: once(bytes) };
}

/**
 * gRPC sends the status in HTTP trailers (filled in while the body streams); gRPC-Web sends it in a final
 * body frame. Both are checked as the body passes through.
 */
function rewriteStream(body: AsyncIterable<Uint8Array>, trailer: Headers | undefined): AsyncIterable<Uint8Array> {
  return passThrough(body, {
    each: (chunk) => (chunk[0] === TRAILER_FLAG ? rewriteGrpcWebTrailer(chunk) : chunk),
    end: () => {
      if (trailer?.get("grpc-status") === GRPC_INTERNAL && isParseMessage(trailer.get("grpc-message"))) {
        trailer.set("grpc-status", GRPC_INVALID_ARGUMENT);
      }
    },
  });
}

function rewriteGrpcWebTrailer(frame: Uint8Array): Uint8Array {
  const text = Buffer.from(frame.subarray(5)).toString("latin1");
  const message = /^grpc-message:\s*(.*)$/im.exec(text)?.[1];
  if (!/^grpc-status:\s*13\s*$/im.test(text) || !isParseMessage(message)) return frame;
  const payload = Buffer.from(
    text.replace(/^(grpc-status:[ \t]*)13(?=\s*$)/im, (_all, name: string) => name + GRPC_INVALID_ARGUMENT),
    "latin1",
  );
  const header = Buffer.alloc(5);
  header[0] = TRAILER_FLAG;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

function isParseMessage(message: string | null | undefined): boolean {
  if (!message) return false;
  let text = message;
  try {
    text = decodeURIComponent(message);
  } catch {
    // not percent-encoded
  }
  return CLIENT_FAULTS.some((prefix) => text.startsWith(prefix));
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
