// Closing the app ends idle keep-alive connections and HTTP/2 sessions at once, instead of waiting out the
// 72 s keep-alive a load balancer needs.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { describe, expect, inject, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { openDatabase } from "../../src/database/index.js";
import { testFiles } from "../helpers/server.js";
import { createApp } from "../../src/app.js";
import { WorkflowRegistry } from "../../src/registry/index.js";
import { createTemporalClient } from "../../src/temporal/index.js";
import { TEST_NAMESPACE } from "../helpers/constants.js";

describe("app.close()", () => {
  it("does not wait for idle HTTP/1.1 keep-alive connections or HTTP/2 sessions", async () => {
    const temporal = createTemporalClient({ address: inject("temporalAddress"), namespace: TEST_NAMESPACE });
    const database = await openDatabase({});
    const app = await createApp({
      config: { bodyLimitBytes: 65_536, taskQueue: "unused", runTimeoutMs: 5000 },
      logger: pino({ level: "silent" }),
      temporal,
      registry: new WorkflowRegistry([]),
      database,
      files: testFiles(),
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    // fetch keeps its HTTP/1.1 connection alive; the gRPC client keeps its HTTP/2 session open.
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    await createClient(Health, createGrpcTransport({ baseUrl })).check({});

    const began = Date.now();
    await app.close();
    expect(Date.now() - began).toBeLessThan(10_000);
    await temporal.close();
    await database.close();
  });
});
