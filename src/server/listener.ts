// One port for every protocol: HTTP/1.1 and HTTP/2 cleartext (h2c, what `grpcurl -plaintext` and gRPC
// clients speak), and TLS with ALPN (h2 or http/1.1) when a certificate is configured. httpolyglot peeks
// at each connection's first bytes and hands it to the matching inner server; all of them call the same
// Fastify handler.
import type http from "node:http";
import type http2 from "node:http2";
import type net from "node:net";
import { createServer } from "@httptoolkit/httpolyglot";

export interface OnePortServerOptions {
  /** Idle HTTP/2 sessions are closed after this long. */
  readonly http2SessionTimeoutMs: number;
  /** Idle HTTP/1.1 keep-alive connections are closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** PEM certificate and key: when set, TLS connections are accepted on the same port too. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * The listener, shaped for Fastify's `serverFactory`. It adds the close helpers Fastify looks for
 * (closeIdleConnections, closeAllConnections, closeHttp2Sessions), so `app.close()` ends idle
 * keep-alive connections and HTTP/2 sessions instead of waiting for them to time out.
 */
export function createOnePortServer(handler: Handler, options: OnePortServerOptions) {
  const server = createServer(
    {
      tls: options.tls ? { cert: options.tls.cert, key: options.tls.key, ALPNProtocols: ["h2", "http/1.1"] } : undefined,
    },
    handler,
  );
  // Small RPC frames must not wait for Nagle's algorithm (about 40 ms against a delayed ACK): Node's HTTP/1.1
  // server turns it off for its sockets, but a sniffed HTTP/2 connection keeps it on unless told.
  server.on("connection", (socket: net.Socket) => socket.setNoDelay(true));
  // httpolyglot forwards listeners added on it to its inner servers, so this hears every HTTP/2 session.
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.setTimeout(options.http2SessionTimeoutMs, () => session.close());
    session.once("close", () => sessions.delete(session));
  });
  // The HTTP/1.1 server is private to httpolyglot; it is the one that tracks keep-alive sockets. Fastify
  // sets its timeouts only on servers it creates, so they are set here: an idle keep-alive connection
  // outlives a load balancer's usual 60 s idle timeout instead of Node's 5 s default.
  const http1 = (server as unknown as { _httpServer: http.Server })._httpServer;
  http1.keepAliveTimeout = options.keepAliveTimeoutMs;
  http1.headersTimeout = options.keepAliveTimeoutMs + 1000;
  // Node's HTTP server starts tracking its connections (what closeIdleConnections and the headers and
  // request timeouts work on) when it emits 'listening'. This one never listens itself, so tracking is
  // started here; without it, closing would wait out every idle keep-alive connection.
  const startTracking = http1.listeners("listening").find((fn) => fn.name === "setupConnectionsTracking");
  if (startTracking === undefined) throw new Error("this Node.js version's HTTP server cannot be shared on one port");
  startTracking.call(http1);
  // Fastify closes idle connections once, when it starts closing; one busy then goes idle afterwards and
  // would hold the close for the whole keep-alive time. Until the listener has closed, keep sweeping.
  const close = server.close.bind(server);
  const closeSweeping = (callback?: (err?: Error) => void) => {
    const sweep = setInterval(() => http1.closeIdleConnections(), 100);
    close((err?: Error) => {
      clearInterval(sweep);
      http1.close(() => undefined); // stops its connection checks; it was never listening itself
      callback?.(err);
    });
    http1.closeIdleConnections();
    for (const session of sessions) session.close();
    return server;
  };
  return Object.assign(server, {
    close: closeSweeping,
    closeIdleConnections: () => http1.closeIdleConnections(),
    closeAllConnections: () => {
      http1.closeAllConnections();
      for (const session of sessions) session.destroy();
    },
    closeHttp2Sessions: () => {
      for (const session of sessions) session.close();
    },
  });
}
