// A comparison target of the benchmark (started by bench/run.ts): a bare @connectrpc/connect-node server
// with one service, grpc.health.v1.Health, whose Check answers SERVING at once. The same handler is served
// on HTTP/2 cleartext (for gRPC) and on HTTP/1.1 (for the Connect protocol with JSON): the ceiling for a
// cheap RPC served by Connect on Node, without Fastify, the one-port listener or any interceptor.
//
//   node --import tsx bench/bare-connect.ts H2C_PORT HTTP1_PORT
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";

const handler = connectNodeAdapter({
  routes: (router) => router.service(Health, { check: async () => ({ status: ServingStatus.SERVING }) }),
});

function listen(server: http.Server | http2.Http2Server, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server.address() as AddressInfo));
  });
}

const h2c = http2.createServer(handler);
const http1 = http.createServer(handler);
// As Flowgate's listener does: small frames on a sniffed HTTP/2 connection must not wait for Nagle.
h2c.on("connection", (socket: Socket) => socket.setNoDelay(true));
await listen(h2c, Number(process.argv[2]));
await listen(http1, Number(process.argv[3]));
console.log("ready");
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));
