// Request bodies sent too slowly. A body Flowgate reads whole (every unary RPC's and server stream's request,
// on every protocol, REST included) must have arrived within the body timeout of its headers; one still
// coming then is answered `deadline_exceeded` in the caller's protocol (REST: 408 Request Timeout, as nginx
// and Node answer), and the unread-body layer closes the exchange within its linger: the HTTP/1.1 connection
// closes, the HTTP/2 stream is reset. A body that trickles in a byte a second would otherwise hold its
// connection and its handler for Node's five minutes (HTTP/1.1) or for ever (HTTP/2, where only a session
// idle for its whole timeout is closed).
//
// Bodies that are streams by design (client and bidi streaming RPCs, file uploads) are read as they come
// and bounded by the call's own deadline instead.
import type http from "node:http";
import type http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { refuseCall } from "./refuse.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The request body is a stream its handler reads as it comes (client and bidi streams, uploads): no body timeout. */
    streamsBody?: boolean;
  }
}

/** True once the whole request body has arrived, read or not. */
function bodyArrived(req: FastifyRequest): boolean {
  const raw = req.raw as http.IncomingMessage | http2.Http2ServerRequest;
  if ("stream" in raw) return raw.stream.destroyed || raw.stream.state.remoteClose === 1 || raw.complete;
  // HTTP/1.1's parser marks the message complete as its last byte is parsed, whoever reads it.
  return raw.complete;
}

/** Registers the body timeout on `app`. */
export function cutSlowBodies(app: FastifyInstance, timeoutMs: number): void {
  app.addHook("onRequest", (req, reply, done) => {
    if (req.routeOptions.config.streamsBody === true || bodyArrived(req)) return done();
    const timer = setTimeout(() => {
      if (bodyArrived(req) || reply.sent || reply.raw.headersSent) return;
      const seconds = timeoutMs / 1000;
      const err = new ConnectError(
        `the request body did not arrive within ${seconds} s of its headers (FLOWGATE_BODY_TIMEOUT): send it at once, not a little at a time`,
        Code.DeadlineExceeded,
      );
      req.log.info({ timeoutMs }, "request body too slow: answered deadline_exceeded");
      if (req.raw.httpVersionMajor === 1) void reply.header("connection", "close");
      refuseCall(req, reply, err, 408);
    }, timeoutMs);
    // 'close' comes however the exchange ends: answered, reset, or the client gone.
    reply.raw.once("close", () => clearTimeout(timer));
    done();
  });
}
