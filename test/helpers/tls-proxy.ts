// A Temporal Cloud-style front for the test's dev server: TLS (optionally requiring a client certificate)
// and an API key, in front of the plaintext dev server. It terminates TLS and relays each gRPC call over
// HTTP/2 to the dev server, refusing a call whose `authorization` is not the expected bearer key the way
// Temporal Cloud does (gRPC Unauthenticated), so a test proves the key is actually sent.
import http2 from "node:http2";
import type { TLSSocket } from "node:tls";

export interface TlsProxyOptions {
  /** host:port of the plaintext dev server. */
  readonly upstream: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, clients must present a certificate this CA signed (mTLS). */
  readonly clientCa?: Buffer;
  /** When set, every call must carry `authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
}

export interface TlsProxy {
  /** 127.0.0.1:port */
  readonly address: string;
  /** How many calls were relayed, and how many refused for their key. */
  readonly stats: { relayed: number; refusedKey: number; clientCertSubjects: Set<string> };
  close(): Promise<void>;
}

const HOP = new Set([":authority", ":scheme", "connection", "host"]);

export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  const upstream = http2.connect(`http://${options.upstream}`);
  upstream.on("error", () => undefined);
  const stats = { relayed: 0, refusedKey: 0, clientCertSubjects: new Set<string>() };
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createSecureServer({
    cert: options.cert,
    key: options.key,
    ALPNProtocols: ["h2"],
    ...(options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  });
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    const peer = (session.socket as TLSSocket).getPeerCertificate?.();
    if (peer?.subject?.CN) stats.clientCertSubjects.add(String(peer.subject.CN));
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    if (options.apiKey !== undefined && headers.authorization !== `Bearer ${options.apiKey}`) {
      stats.refusedKey++;
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "16", "grpc-message": "Request unauthorized: invalid API key" },
        { endStream: true },
      );
      return;
    }
    stats.relayed++;
    const forwarded: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!HOP.has(name) && value !== undefined) forwarded[name] = value;
    }
    const up = upstream.request(forwarded);
    up.on("error", () => undefined);
    let trailers: http2.OutgoingHttpHeaders = {};
    up.on("response", (responseHeaders) => {
      if (stream.destroyed) return;
      // A trailers-only answer (an error at once) carries grpc-status in its headers.
      if (responseHeaders["grpc-status"] !== undefined) stream.respond(responseHeaders, { endStream: true });
      else stream.respond(responseHeaders, { waitForTrailers: true });
    });
    up.on("trailers", (t) => (trailers = t));
    up.on("data", (chunk: Buffer) => {
      if (!stream.destroyed && !stream.writableEnded) stream.write(chunk);
    });
    up.on("end", () => {
      if (!stream.destroyed && !stream.writableEnded) stream.end();
    });
    stream.on("wantTrailers", () => stream.sendTrailers(trailers));
    stream.pipe(up);
    stream.on("close", () => {
      if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
    });
    up.on("close", () => {
      if (!stream.closed && !stream.headersSent) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    stats,
    async close() {
      for (const session of sessions) session.destroy();
      upstream.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
