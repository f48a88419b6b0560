// The one-port listener on its own, with a handler that answers with the HTTP version it was reached over:
// which protocol each kind of first bytes reaches (split, garbage, silence, TLS by ALPN), that HTTP/2 reads
// the socket itself rather than a JavaScript stream around it, and that nothing half-open holds close().
import { once } from "node:events";
import { rm } from "node:fs/promises";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createOnePortServer, type OnePortServerOptions } from "../../src/server/listener.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";

type OnePortServer = ReturnType<typeof createOnePortServer>;

const DEFAULTS: OnePortServerOptions = { http2SessionTimeoutMs: 72_000, keepAliveTimeoutMs: 72_000 };

let certs: TestCerts;
const servers: OnePortServer[] = [];

beforeAll(async () => {
  certs = await makeTestCerts();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => closeServer(server)));
});

afterAll(async () => {
  await rm(certs.dir, { recursive: true, force: true });
});

async function start(options: Partial<OnePortServerOptions> = {}): Promise<{ server: OnePortServer; port: number }> {
  const server = createOnePortServer((req, res) => {
    res.end(`HTTP/${req.httpVersion}${req.socket instanceof tls.TLSSocket ? " over TLS" : ""}`);
  }, { ...DEFAULTS, ...options });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as net.AddressInfo).port };
}

function closeServer(server: OnePortServer): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

/** Closes the server and says how long it took. */
async function timeClose(server: OnePortServer): Promise<number> {
  const began = Date.now();
  await closeServer(server);
  return Date.now() - began;
}

async function h2Get(session: http2.ClientHttp2Session): Promise<string> {
  const stream = session.request({ ":path": "/" });
  stream.setEncoding("utf8");
  let body = "";
  for await (const chunk of stream) body += chunk as string;
  return body;
}

async function h2cGet(port: number): Promise<string> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await h2Get(session);
  } finally {
    session.close();
  }
}

/** Raw bytes in, everything the server sends back until it closes. */
async function exchange(port: number, bytes: string | Buffer): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  socket.end(bytes);
  let reply = "";
  socket.setEncoding("utf8");
  for await (const chunk of socket) reply += chunk as string;
  return reply;
}

/**
 * A relay to the listener that holds back all but the first `splitAt` bytes a client sends for a moment,
 * so the listener sees them in two reads with a pause between.
 */
async function startSplittingRelay(port: number, splitAt: number): Promise<{ port: number; close: () => void }> {
  const relay = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    upstream.pipe(client);
    client.once("data", (first: Buffer) => {
      client.pause();
      upstream.write(first.subarray(0, splitAt));
      setTimeout(() => {
        upstream.write(first.subarray(splitAt));
        client.pipe(upstream);
        client.resume();
      }, 100);
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  relay.listen(0, "127.0.0.1");
  await once(relay, "listening");
  return {
    port: (relay.address() as net.AddressInfo).port,
    close: () => {
      relay.close();
    },
  };
}

describe("which server a connection reaches", () => {
  it("serves HTTP/1.1 and h2c on the one port", async () => {
    const { port } = await start();
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("HTTP/1.1");
    expect(await h2cGet(port)).toBe("HTTP/2.0");
  });

  it("gives HTTP/2 the accepted socket's own handle, not a JavaScript stream wrapped around it", async () => {
    const { server, port } = await start();
    const accepted: net.Socket[] = [];
    server.on("connection", (socket: net.Socket) => accepted.push(socket));
    const sessionSockets: net.Socket[] = [];
    server.on("session", (session: http2.ServerHttp2Session) => sessionSockets.push(session.socket));
    expect(await h2cGet(port)).toBe("HTTP/2.0");
    // `_handle` is Node's own: the accepted TCP handle when HTTP/2 reads natively, a JSStream when wrapped.
    const handleOf = (socket: net.Socket) => (socket as unknown as { _handle: object })._handle;
    expect(sessionSockets).toHaveLength(1);
    expect(handleOf(sessionSockets[0]!).constructor.name).toBe("TCP");
    expect(handleOf(sessionSockets[0]!) === handleOf(accepted[0]!)).toBe(true);
  });

  it("waits for the rest of an HTTP/2 preface that comes in two parts", async () => {
    const { port } = await start();
    const relay = await startSplittingRelay(port, "PRI * HT".length);
    try {
      expect(await h2cGet(relay.port)).toBe("HTTP/2.0");
    } finally {
      relay.close();
    }
  });

  it("serves HTTP/1.1 whose first read is only a beginning of the HTTP/2 preface", async () => {
    const { port } = await start();
    // "P" could still become "PRI * HTTP/2.0"; "POST" cannot.
    const relay = await startSplittingRelay(port, 1);
    try {
      const response = await fetch(`http://127.0.0.1:${relay.port}/`, { method: "POST", body: "x" });
      expect(await response.text()).toBe("HTTP/1.1");
    } finally {
      relay.close();
    }
  });

  it("answers garbage with HTTP/1.1 400 and closes", async () => {
    const { port } = await start();
    expect(await exchange(port, "\x00\x01 not a protocol\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    // A near miss of the preface is garbage too, once it stops matching.
    expect(await exchange(port, "PRI * HTTP/1.1\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
  });

  it("passes the HTTP/1.1 server's 'clientError' to listeners added on the listener", async () => {
    const { server, port } = await start();
    const errors: Error[] = [];
    server.on("clientError", (err: Error, socket: net.Socket) => {
      errors.push(err);
      socket.end("HTTP/1.1 418 I'm a teapot\r\n\r\n");
    });
    expect(await exchange(port, "garbage\r\n\r\n")).toMatch(/^HTTP\/1\.1 418 /);
    expect(errors).toHaveLength(1);
  });

  it("drops TLS when no certificate is configured", async () => {
    const { port } = await start();
    const socket = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    const [err] = (await once(socket, "error")) as [NodeJS.ErrnoException];
    expect(err.code).toMatch(/ECONNRESET|EPIPE|ERR_SSL/);
  });

  it("drops a connection that ends before it has said which protocol", async () => {
    const { port } = await start();
    expect(await exchange(port, "PRI * HT")).toBe("");
  });
});

describe("TLS on the same port", () => {
  const tlsOptions = () => ({ tls: { cert: certs.serverCert.pem, key: certs.serverKey.pem } });

  it("serves HTTP/2 to clients that offer h2, HTTP/1.1 to those that offer http/1.1 or nothing", async () => {
    const { port } = await start(tlsOptions());
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: certs.ca.pem });
    try {
      expect(await h2Get(session)).toBe("HTTP/2.0 over TLS");
    } finally {
      session.close();
    }
    for (const ALPNProtocols of [["http/1.1"], undefined]) {
      const body = await new Promise<string>((resolve, reject) => {
        const agent = new https.Agent({ ca: certs.ca.pem, ALPNProtocols, keepAlive: false });
        https
          .get(`https://127.0.0.1:${port}/`, { agent }, (res) => {
            res.setEncoding("utf8");
            let text = "";
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => resolve(text));
          })
          .on("error", reject);
      });
      expect(body).toBe("HTTP/1.1 over TLS");
    }
    // And cleartext beside it.
    expect(await h2cGet(port)).toBe("HTTP/2.0");
  });
});

describe("closing", () => {
  it("does not wait for connections that sent nothing, half a preface, or half a TLS handshake", async () => {
    const { server, port } = await start({ tls: { cert: certs.serverCert.pem, key: certs.serverKey.pem } });
    const silent = net.connect(port, "127.0.0.1");
    const halfPreface = net.connect(port, "127.0.0.1", () => halfPreface.write("PRI * HT"));
    // The first bytes of a TLS record header announcing a ClientHello, and no more.
    const halfHandshake = net.connect(port, "127.0.0.1", () => halfHandshake.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])));
    const sockets = [silent, halfPreface, halfHandshake];
    await Promise.all(sockets.map((socket) => once(socket, "connect")));
    await sleep(100);
    const closed = Promise.all(sockets.map((socket) => once(socket, "close")));
    expect(await timeClose(server)).toBeLessThan(2000);
    await closed;
  });

  it("does not wait for idle HTTP/1.1 keep-alive connections or HTTP/2 sessions", async () => {
    const { server, port } = await start();
    const agent = new http.Agent({ keepAlive: true });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http.get(`http://127.0.0.1:${port}/`, { agent }, (res) => resolve(res.resume().statusCode)).on("error", reject);
    });
    expect(status).toBe(200);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    expect(await h2Get(session)).toBe("HTTP/2.0");
    expect(await timeClose(server)).toBeLessThan(2000);
    agent.destroy();
    session.destroy();
  });

  it("closes a connection that says nothing for the keep-alive time", async () => {
    const { port } = await start({ keepAliveTimeoutMs: 200 });
    const silent = net.connect(port, "127.0.0.1");
    const began = Date.now();
    await once(silent, "close");
    expect(Date.now() - began).toBeGreaterThanOrEqual(150);
    expect(Date.now() - began).toBeLessThan(2000);
  });
});
