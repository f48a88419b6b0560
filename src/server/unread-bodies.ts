// What happens to the rest of a request body the server answered before reading it all: a body over the
// limit (REST's 413, Connect's and gRPC's resource_exhausted), or any call refused before its body was read.
// One layer for every protocol, run when the answer has been sent in full:
//
// - The rest is read and discarded for a bounded time and number of bytes. Closing at once would make the
//   client's unsent bytes draw a TCP reset, and a client that writes its whole body before reading
//   (Python's `requests`, curl without Expect) would get a broken pipe instead of the answer; reading on
//   without a bound would let it make the server swallow gigabytes.
// - Past the bounds, HTTP/1.1 closes the connection (a lingering close), HTTP/2 resets the stream with
//   NO_ERROR, which tells the client to stop sending and keep the answer (RFC 9113, section 8.1).
import type http from "node:http";
import http2 from "node:http2";
import type { FastifyInstance } from "fastify";

export interface UnreadBodyBounds {
  /** How long the rest of a body is read and discarded at most. */
  readonly lingerMs: number;
  /** How many more bytes are read and discarded at most. */
  readonly lingerBytes: number;
}

/** Registers the layer on `app`: every request's answer, once sent, settles its unread body. */
export function settleUnreadBodies(app: FastifyInstance, bounds: UnreadBodyBounds): void {
  app.addHook("onRequest", (req, reply, done) => {
    const request = req.raw as http.IncomingMessage | http2.Http2ServerRequest;
    if ("stream" in request) {
      // On HTTP/2 the response's own 'finish' waits for the stream to close, which a client still sending
      // never lets happen; the stream's writable side finishes when the answer is out.
      const { stream } = request;
      stream.once("finish", () => {
        if (stream.destroyed || stream.closed || stream.state.remoteClose === 1) return;
        stream.once("close", drain(request, bounds, () => resetStream(stream)));
      });
    } else {
      reply.raw.once("finish", () => {
        if (request.complete || request.socket.destroyed) return;
        lingerOn(request, bounds);
      });
    }
    done();
  });
}

/**
 * Reads and discards what is left of `body` until it ends, `lingerBytes` more have come, or `lingerMs`
 * have passed; in the last two cases `giveUp` closes the exchange. Returns what stops it early.
 */
function drain(body: http.IncomingMessage | http2.Http2ServerRequest, { lingerMs, lingerBytes }: UnreadBodyBounds, giveUp: () => void): () => void {
  let discarded = 0;
  const stop = () => {
    clearTimeout(timer);
    body.off("data", count).off("end", stop);
  };
  const over = () => {
    stop();
    giveUp();
  };
  const count = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > lingerBytes) over();
  };
  const timer = setTimeout(over, lingerMs);
  body.on("data", count).once("end", stop);
  body.resume();
  return stop;
}

/**
 * HTTP/2: the client's window is opened again so it can finish sending, and a client that does not is
 * told to stop with RST_STREAM NO_ERROR (RFC 9113, section 8.1), which keeps the answer it has. The reset
 * comes only once the answer is long out: nghttp2 sends a RST_STREAM ahead of any frame still queued.
 */
function resetStream(stream: http2.ServerHttp2Stream): void {
  if (!stream.destroyed && !stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

/**
 * HTTP/1.1: a lingering close. An answer that closes the connection (`Connection: close`, from Fastify
 * on a body error or asked by the client) has just made Node end the socket and schedule its destruction
 * once our FIN is out; the destruction waits for the drain instead. The read side stays open: the client
 * can still send. A body that ends within the bounds leaves the connection as the answer said it would be.
 */
function lingerOn(request: http.IncomingMessage, bounds: UnreadBodyBounds): void {
  const socket = request.socket;
  // The very function net.Socket.destroySoon registered (`this.once("finish", this.destroy)`), never called here.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  socket.removeListener("finish", socket.destroy);
  const stop = drain(request, bounds, () => socket.destroy());
  socket.once("close", stop);
  request.once("end", () => {
    // The body came in full: a kept-alive connection serves on, and must not gather one listener per request.
    socket.off("close", stop);
    if (socket.writableEnded) socket.destroy();
  });
}
