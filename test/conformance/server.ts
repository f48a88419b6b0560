// The server under test of `connectconformance --mode server` (run.sh has the runner start it, once per
// server configuration). It reads one ServerCompatRequest from stdin, serves the conformance service on
// Flowgate's transport at 127.0.0.1 and a free port, and answers one ServerCompatResponse on stdout. Both
// messages are framed as the runner frames them: a 4-byte big-endian length, then the message. stdout
// carries nothing else: logs go to stderr (FLOWGATE_CONFORMANCE_LOG_LEVEL, silent by default).
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { createConformanceApp } from "./app.js";
import { HTTPVersion } from "./gen/connectrpc/conformance/v1/config_pb.js";
import { ServerCompatRequestSchema, ServerCompatResponseSchema } from "./gen/connectrpc/conformance/v1/server_compat_pb.js";

/** FLOWGATE_BODY_LIMIT's default, for configurations that set no receive limit. */
const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
/** The runner stops each server with SIGTERM; a close that takes longer than this is cut short. */
const CLOSE_TIMEOUT_MS = 3000;

const request = fromBinary(ServerCompatRequestSchema, await readFrame(process.stdin));
if (request.httpVersion === HTTPVersion.HTTP_VERSION_3) throw new Error("HTTP/3 is not served (config.yaml leaves it out)");
if (request.clientTlsCert.length > 0) throw new Error("TLS client certificates are not supported (config.yaml leaves them out)");
if (request.useTls && request.serverCreds === undefined) throw new Error("TLS asked for without server credentials");

const app = await createConformanceApp({
  logger: pino({ level: process.env.FLOWGATE_CONFORMANCE_LOG_LEVEL ?? "silent" }, pino.destination(2)),
  bodyLimitBytes: request.messageReceiveLimit || DEFAULT_BODY_LIMIT_BYTES,
  // The runner's self-signed certificate for localhost and 127.0.0.1.
  tls: request.useTls ? { cert: Buffer.from(request.serverCreds!.cert), key: Buffer.from(request.serverCreds!.key) } : undefined,
  mount: process.env.FLOWGATE_CONFORMANCE_MOUNT === "createServer" ? "createServer" : "workaround",
});
process.once("SIGTERM", () => {
  setTimeout(() => process.exit(0), CLOSE_TIMEOUT_MS).unref();
  void app.close().then(() => process.exit(0));
});
await app.listen({ host: "127.0.0.1", port: 0 });
const { port } = app.server.address() as { port: number };
const response = create(ServerCompatResponseSchema, {
  host: "127.0.0.1",
  port,
  pemCert: request.useTls ? request.serverCreds!.cert : new Uint8Array(0),
});
process.stdout.write(frame(toBinary(ServerCompatResponseSchema, response)));

/** One length-prefixed message; the runner may keep stdin open after it. */
async function readFrame(input: AsyncIterable<Buffer>): Promise<Uint8Array> {
  let buffered = Buffer.alloc(0);
  for await (const chunk of input) {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
      return buffered.subarray(4, 4 + buffered.readUInt32BE(0));
    }
  }
  throw new Error("stdin ended before a whole ServerCompatRequest arrived");
}

function frame(message: Uint8Array): Uint8Array {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(message.length);
  return Buffer.concat([prefix, message]);
}
