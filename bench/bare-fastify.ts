// A comparison target of the benchmark (started by bench/run.ts): a bare Fastify 5 route answering what
// Flowgate's GET /health/live answers, with nothing else (no logger, no hooks, no Connect). The floor for
// an HTTP call that does no work.
//
//   node --import tsx bench/bare-fastify.ts PORT
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/health/live", async () => ({ status: "ok" }));
await app.listen({ host: "127.0.0.1", port: Number(process.argv[2]) });
console.log("ready");
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
