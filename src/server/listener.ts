// One port for every protocol: HTTP/1.1 and HTTP/2 cleartext (h2c, what `grpcurl -plaintext` and gRPC
// clients speak), and TLS with ALPN (h2 or http/1.1) when a certificate is configured. A plain TCP server
// reads each connection's first bytes, puts them back, and hands the socket itself to Node's HTTP/1.1
// server, its HTTP/2 server, or a TLS server whose sockets go on to one of those two by ALPN. All of them
// call the same Fastify handler. The TLS server's certificate can be replaced while it runs, and it can ask
// clients for certificates of their own (tls.ts keeps what each connection presented, for authentication).
//
// The socket is handed over as it is, so HTTP/2 reads it natively: Node's HTTP/2 session takes the socket's
// own handle and first feeds it whatever was read and put back (the Http2Session constructor in
// lib/internal/http2/core.js, `socket.readableLength` -> `handle.receive`, nodejs/node#35475), as the TLS
// server does (`initRead` in lib/_tls_wrap.js) and the HTTP/1.1 server does through 'data'. The peek is a
// read and an unshift because Node has no MSG_PEEK. @httptoolkit/httpolyglot, used before, marked an h2c
// socket as no native stream, so every HTTP/2 read went through a JSStreamSocket in JavaScript.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { noteClientCertificate } from "./tls.js";

export interface OnePortServerOptions {
  /** Idle HTTP/2 sessions are closed after this long. */
  readonly http2SessionTimeoutMs: number;
  /**
   * Idle HTTP/1.1 keep-alive connections are closed after this long, and so is a connection that has not
   * yet sent enough to tell its protocol.
   */
  readonly keepAliveTimeoutMs: number;
  /** PEM certificate and key: when set, TLS connections are accepted on the same port too. */
  readonly tls?: ListenerTls | undefined;
  /** What a connection may take before it is served; absent: Node's defaults, no caps. */
  readonly connections?: ConnectionLimits | undefined;
  /** How long closing waits for the connections still open to end before it destroys them; 2 s by default. */
  readonly closeTimeoutMs?: number | undefined;
  /** Told when closing destroys the connections still open at its timeout: how many, after how long. */
  readonly onCloseTimeout?: ((open: number, afterMs: number) => void) | undefined;
  /** Told of each connection closed at once for being over a cap. */
  readonly onRefused?: ((reason: ConnectionRefusal, remoteAddress: string | undefined) => void) | undefined;
}

/** Bounds on connections, against clients that hold them open by sending slowly or opening many. */
export interface ConnectionLimits {
  /**
   * How long a connection has to say which protocol it speaks, finish its TLS handshake, and send each HTTP/1.1
   * request's headers; then it is closed (HTTP/1.1: with 408).
   */
  readonly headersTimeoutMs: number;
  /** Streams an HTTP/2 connection may have open at once, advertised as SETTINGS_MAX_CONCURRENT_STREAMS. */
  readonly maxStreamsPerConnection: number;
  /** Connections open at once on the port; one more is closed as soon as it is accepted. 0: no cap. */
  readonly maxConnections: number;
  /** Connections open at once from one remote address; one more is closed as soon as it is accepted. 0: no cap. */
  readonly maxConnectionsPerAddress: number;
}

/** Why a connection was closed as soon as it was accepted. */
export type ConnectionRefusal = "connections" | "connections_per_address";

/** What the TLS side serves: the certificate and key, and the CA that signs the client certificates it asks for. */
export interface ListenerTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /**
   * When set, every TLS client is asked for a certificate, verified against this CA. One without a certificate,
   * or with one that fails verification, is still served: refusing it is authentication's call, made per
   * request and answered in the request's own protocol, where a failed handshake would only say "bad certificate".
   */
  readonly clientCa?: string | Buffer | undefined;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

type Protocol = "tls" | "http2" | "http1";

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** The content type of a TLS handshake record: the first byte of every ClientHello. */
const TLS_HANDSHAKE = 0x16;
/** The TCP server's own events; a listener for any other event is passed on to the HTTP servers. */
const LISTENER_EVENTS = new Set<string>(["close", "connection", "drop", "error", "listening", "newListener", "removeListener"]);

/**
 * The protocol a connection's first bytes announce, or undefined while too few have come to tell: only a
 * beginning of the HTTP/2 preface waits for more. Anything else that is not TLS goes to the HTTP/1.1
 * server, which answers garbage with 400 and closes.
 */
function protocolOf(head: Buffer): Protocol | undefined {
  if (head.length === 0) return undefined;
  if (head[0] === TLS_HANDSHAKE) return "tls";
  const compared = Math.min(head.length, HTTP2_PREFACE.length);
  if (head.compare(HTTP2_PREFACE, 0, compared, 0, compared) !== 0) return "http1";
  return compared === HTTP2_PREFACE.length ? "http2" : undefined;
}

/** Reads until the first bytes tell the protocol, puts them back, then calls `decided`. */
function readProtocol(socket: net.Socket, decided: (protocol: Protocol) => void): void {
  let head: Buffer = Buffer.alloc(0);
  const onReadable = () => {
    const chunk = socket.read() as Buffer | null;
    if (chunk === null) return;
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const protocol = protocolOf(head);
    if (protocol === undefined) return;
    socket.off("readable", onReadable);
    socket.off("end", onEnd);
    socket.unshift(head);
    decided(protocol);
  };
  // Ended before it said enough: nobody can answer it.
  const onEnd = () => socket.destroy();
  socket.on("readable", onReadable);
  socket.once("end", onEnd);
}

/** A connection's remote address and port, the same on a raw socket and on the TLS socket made from it. */
const remoteEndOf = (socket: net.Socket) => `${socket.remoteAddress}|${socket.remotePort}`;

const ignoreError = () => undefined;

/** See closeTimeoutMs. */
const CLOSE_TIMEOUT_MS = 2000;

/**
 * The listener, shaped for Fastify's `serverFactory`. It adds the close helpers Fastify looks for
 * (closeIdleConnections, closeAllConnections, closeHttp2Sessions), so `app.close()` ends idle
 * keep-alive connections and HTTP/2 sessions instead of waiting for them to time out.
 */
export function createOnePortServer(handler: Handler, options: OnePortServerOptions) {
  const limits = options.connections;
  const headersTimeoutMs = limits?.headersTimeoutMs ?? options.keepAliveTimeoutMs;
  // Node checks the HTTP/1.1 headers timeout this often (30 s by default, which would let a slow client
  // hold its connection up to 30 s past the timeout).
  const http1 = http.createServer({ connectionsCheckingInterval: Math.min(1000, headersTimeoutMs) }, handler);
  // Fastify's handler takes HTTP/2's compatibility request and response as they are.
  const h2 = http2.createServer(
    limits === undefined ? {} : { settings: { maxConcurrentStreams: limits.maxStreamsPerConnection } },
    handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const clientCa = options.tls?.clientCa;
  const secure = options.tls
    ? tls.createServer({
        cert: options.tls.cert,
        key: options.tls.key,
        ALPNProtocols: ["h2", "http/1.1"],
        handshakeTimeout: headersTimeoutMs,
        ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: false }),
      })
    : undefined;
  const perAddress = new Map<string, number>();
  // Every connection open, whichever server owns it: what a close that waits too long destroys.
  const accepted = new Set<net.Socket>();

  // Connections no inner server owns yet: still to send their first bytes, or in their TLS handshake. They
  // have no request under way, so closing treats them as idle.
  const unclaimed = new Set<net.Socket>();
  const handshakes = new Map<string, net.Socket>();
  const claim = (socket: net.Socket) => unclaimed.delete(socket);

  // Small RPC frames must not wait for Nagle's algorithm (about 40 ms against a delayed ACK). Node's HTTP
  // servers turn it off only for the sockets they accept themselves, so the TCP server does it for all.
  const server = net.createServer({ noDelay: true }, (socket) => {
    // Read now, while the socket is open, so Node keeps it: a request's log line is written after its
    // answer, when a connection the client closed can no longer tell its peer.
    const address = socket.remoteAddress;
    accepted.add(socket);
    socket.once("close", () => accepted.delete(socket));
    // A reset before the hand-over must not throw; whoever takes the socket adds its own handling.
    socket.on("error", ignoreError);
    if (limits !== undefined && limits.maxConnectionsPerAddress > 0 && address !== undefined) {
      const open = perAddress.get(address) ?? 0;
      if (open >= limits.maxConnectionsPerAddress) {
        socket.destroy();
        options.onRefused?.("connections_per_address", address);
        return;
      }
      perAddress.set(address, open + 1);
      socket.once("close", () => {
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left === 0) perAddress.delete(address);
        else perAddress.set(address, left);
      });
    }
    unclaimed.add(socket);
    socket.once("close", () => claim(socket));
    const onTimeout = () => socket.destroy();
    socket.setTimeout(headersTimeoutMs);
    socket.once("timeout", onTimeout);
    readProtocol(socket, (protocol) => {
      socket.setTimeout(0);
      socket.off("timeout", onTimeout);
      if (protocol === "http1") {
        claim(socket);
        http1.emit("connection", socket);
      } else if (protocol === "http2") {
        claim(socket);
        h2.emit("connection", socket);
      } else if (secure === undefined) {
        socket.destroy();
      } else {
        // Unclaimed until the handshake ends. 'secureConnection' gives the TLS socket, which has no public
        // link to this one, so this one is found again by the remote address and port they share.
        const remoteEnd = remoteEndOf(socket);
        handshakes.set(remoteEnd, socket);
        socket.once("close", () => {
          if (handshakes.get(remoteEnd) === socket) handshakes.delete(remoteEnd);
        });
        secure.emit("connection", socket);
      }
    });
  });

  secure?.on("secureConnection", (tlsSocket: tls.TLSSocket) => {
    const remoteEnd = remoteEndOf(tlsSocket);
    const raw = handshakes.get(remoteEnd);
    if (raw !== undefined) claim(raw);
    handshakes.delete(remoteEnd);
    if (clientCa !== undefined) noteClientCertificate(tlsSocket);
    // HTTP/2 over TLS is chosen by ALPN only (RFC 9113 section 3.3); a client that offers none gets HTTP/1.1.
    if (tlsSocket.alpnProtocol === "h2") h2.emit("connection", tlsSocket);
    else http1.emit("connection", tlsSocket);
  });

  // Listeners added on the listener for the HTTP servers' events (Fastify's 'clientError') go to them.
  for (const [event, forward] of [
    ["newListener", "on"],
    ["removeListener", "off"],
  ] as const) {
    server.on(event, (name: string | symbol, listener: (...args: unknown[]) => void) => {
      if (typeof name !== "string" || LISTENER_EVENTS.has(name)) return;
      http1[forward](name, listener);
      h2[forward](name, listener);
    });
  }

  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.setTimeout(options.http2SessionTimeoutMs, () => session.close());
    session.once("close", () => sessions.delete(session));
  });
  // Fastify sets its timeouts only on servers it creates, so they are set here: an idle keep-alive
  // connection outlives a load balancer's usual 60 s idle timeout instead of Node's 5 s default.
  http1.keepAliveTimeout = options.keepAliveTimeoutMs;
  http1.headersTimeout = limits?.headersTimeoutMs ?? options.keepAliveTimeoutMs + 1000;
  // Over the cap, Node closes the connection as it is accepted ('drop').
  if (limits !== undefined && limits.maxConnections > 0) {
    server.maxConnections = limits.maxConnections;
    server.on("drop", (data?: net.DropArgument) => options.onRefused?.("connections", data?.remoteAddress));
  }
  // Node's HTTP server starts tracking its connections (what closeIdleConnections and the headers and
  // request timeouts work on) when it emits 'listening'. This one never listens itself, so tracking is
  // started here; without it, closing would wait out every idle keep-alive connection.
  const startTracking = http1.listeners("listening").find((fn) => fn.name === "setupConnectionsTracking");
  if (startTracking === undefined) throw new Error("this Node.js version's HTTP server cannot be shared on one port");
  startTracking.call(http1);

  const closeUnclaimed = () => {
    for (const socket of unclaimed) socket.destroy();
  };
  // Fastify closes idle connections once, when it starts closing; one busy then goes idle afterwards and
  // would hold the close for the whole keep-alive time. Until the listener has closed, keep sweeping.
  // Nothing new becomes unclaimed once the TCP server stops accepting, so those are closed once.
  const close = server.close.bind(server);
  const closeSweeping = (callback?: (err?: Error) => void) => {
    const sweep = setInterval(() => http1.closeIdleConnections(), 100);
    // By now every call has been answered (the drain ran first). A connection still open after this long is
    // one whose peer does not read: an HTTP/2 session closing gracefully waits for its last bytes to be
    // written, and a client that reads nothing more from its socket would hold the close for ever.
    const closeTimeoutMs = options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS;
    const force = setTimeout(() => {
      options.onCloseTimeout?.(accepted.size, closeTimeoutMs);
      for (const socket of accepted) socket.destroy();
    }, closeTimeoutMs);
    close((err?: Error) => {
      clearTimeout(force);
      clearInterval(sweep);
      http1.close(() => undefined); // stops its connection checks; it was never listening itself
      callback?.(err);
    });
    http1.closeIdleConnections();
    closeUnclaimed();
    for (const session of sessions) session.close();
    return server;
  };
  return Object.assign(server, {
    close: closeSweeping,
    /**
     * Serves another certificate (and client CA) to the connections that come from now on; open ones keep the
     * one they shook hands with. Throws when the pair cannot be used, and the one before stays served.
     */
    setSecureContext: (material: ListenerTls) => {
      if (secure === undefined) throw new Error("this listener serves no TLS: it was created without a certificate");
      secure.setSecureContext({ cert: material.cert, key: material.key, ...(material.clientCa === undefined ? {} : { ca: material.clientCa }) });
    },
    closeIdleConnections: () => {
      http1.closeIdleConnections();
      closeUnclaimed();
    },
    closeAllConnections: () => {
      for (const socket of accepted) socket.destroy();
    },
    closeHttp2Sessions: () => {
      for (const session of sessions) session.close();
    },
  });
}
