// A comparison target of the benchmark (started by bench/run.ts): a bare Fastify 5 route answering what
// Flowgate's GET /health/live answers, with nothing else (no logger, no hooks, no Connect). The floor for
// an HTTP call that does no work, and (POST /json-size) the floor for one that reads a large JSON body.
//
//   node --import tsx bench/bare-fastify.ts PORT
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/health/live", async () => ({ status: "ok" }));
// Fastify's own JSON body parser (4 MiB, as Flowgate's limit), and an answer that shows the body was read.
app.post("/json-size", { bodyLimit: 4 * 1024 * 1024 }, async (req) => ({ fields: Object.keys((req.body as { input: object }).input).length }));
await app.listen({ host: "127.0.0.1", port: Number(process.argv[2]) });
console.log("ready");
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
