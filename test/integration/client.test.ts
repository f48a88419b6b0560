// The TypeScript client (src/client, `flowgate/client`) against a live Flowgate, on the transports a caller
// picks: Connect JSON and binary and gRPC-Web over fetch (as in a browser), and gRPC over HTTP/2 through
// connect-node. A watch whose connection drops resumes after the last event it gave, losing and repeating
// nothing.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFlowgateClient, credentials, WorkflowEventType, WorkflowRunError, type FlowgateClient } from "../../src/client/index.js";
import { callError } from "../helpers/protocols.js";
import { startSecuredTestServer, startTestServer, type TestServer } from "../helpers/server.js";
import { startSlowLink } from "../helpers/slow-link.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const clients: Record<string, () => FlowgateClient> = {
  "connect (fetch)": () => createFlowgateClient({ baseUrl: server.baseUrl }),
  "connect binary (fetch)": () => createFlowgateClient({ baseUrl: server.baseUrl, protocol: "connect-binary" }),
  "grpc-web (fetch)": () => createFlowgateClient({ baseUrl: server.baseUrl, protocol: "grpc-web" }),
  "grpc (connect-node)": () => createFlowgateClient({ transport: createGrpcTransport({ baseUrl: server.baseUrl }) }),
};

describe.each(Object.keys(clients))("the client over %s", (name) => {
  const fg = () => clients[name]!();

  it("starts a workflow by type and input, and reads its result", async () => {
    const run = await fg().start("greet", { name: "Ada" });
    expect(run.workflowId).toMatch(/^greet-/);
    expect(await run.result()).toEqual({ greeting: "Hello, Ada!" });
  });

  it("signals, queries and updates a run, and reads the outcome they led to", async () => {
    const client = fg();
    const run = await client.start("approval", { request: "a new laptop" }, { workflowId: `client-${randomUUID()}` });
    expect(await run.query("state")).toMatchObject({ status: "waiting", request: "a new laptop" });
    const refused = await callError(run.update("decision", { approved: false }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    await run.signal("decision", { approved: true, comment: "fine" }, { requestId: "decide-1" });
    expect(await run.result()).toMatchObject({ approved: true, comment: "fine" });
    // The same run, named by its ids alone.
    expect((await client.run(run.workflowId, run.runId).status()).workflowType).toBe("approval");
  });

  it("stops a run, and result() then says how it ended", async () => {
    const run = await fg().start("sleep", { seconds: 60 });
    await run.stop({ terminate: true, reason: "not needed" });
    const err = await run.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowRunError);
    expect((err as WorkflowRunError).outcome).toMatchObject({ workflowId: run.workflowId, runId: run.runId, status: "TERMINATED" });
  });

  it("fails with a ConnectError carrying the code", async () => {
    const err = await callError(fg().start("greet", { name: "" }));
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^input\.name/);
    expect((await callError(fg().run(`missing-${randomUUID()}`).status())).code).toBe(Code.NotFound);
  });
});

describe("a watch", () => {
  it.each(["connect (fetch)", "grpc (connect-node)"])("over %s resumes after a dropped connection, losing and repeating nothing", async (name) => {
    // No delay: a relay only so that its connections can be dropped.
    const relay = await startSlowLink(server.hostPort, 0);
    const relayUrl = `http://${relay.address}`;
    try {
      const through =
        name === "connect (fetch)" ? createFlowgateClient({ baseUrl: relayUrl }) : createFlowgateClient({ transport: createGrpcTransport({ baseUrl: relayUrl }) });
      const run = await through.start("report", { steps: 6, step_seconds: 0.3 });
      const seen: bigint[] = [];
      let cuts = 0;
      for await (const event of run.watch({ retryDelayMs: 50 })) {
        seen.push(event.eventId);
        // Twice, mid-run: the connection under the stream is dropped.
        if ((seen.length === 3 || seen.length === 8) && cuts < 2) {
          cuts++;
          relay.cut();
        }
      }
      expect(cuts).toBe(2);
      // What a watch that never broke sees, read directly afterwards.
      const direct: bigint[] = [];
      for await (const event of createFlowgateClient({ baseUrl: server.baseUrl }).run(run.workflowId, run.runId).watch()) direct.push(event.eventId);
      expect(seen).toEqual(direct);
      expect(new Set(seen).size).toBe(seen.length);
    } finally {
      await relay.close();
    }
  });

  it("gives up with the error when the server does not come back, and ends at once on a caller's error", async () => {
    const relay = await startSlowLink("127.0.0.1:1", 0);
    const events = createFlowgateClient({ baseUrl: `http://${relay.address}` }).run("anything").watch({ retryDelayMs: 10, maxRetries: 2 });
    const err = await callError(
      (async () => {
        for await (const _ of events) {
          // Nothing comes.
        }
      })(),
    );
    expect(err.code).toBe(Code.Unavailable);
    await relay.close();
    const missing = createFlowgateClient({ baseUrl: server.baseUrl })
      .run(`missing-${randomUUID()}`)
      .watch({ types: [WorkflowEventType.PROGRESS] });
    const notFound = await callError(
      (async () => {
        for await (const _ of missing) {
          // Nothing comes.
        }
      })(),
    );
    expect(notFound.code).toBe(Code.NotFound);
  });
});

describe("the README's example", () => {
  it("answers an approval's request for input from its watch, and reads the decision", async () => {
    const fg = createFlowgateClient({ baseUrl: server.baseUrl });
    const approval = await fg.start("approval", { request: "a new laptop" });
    const types: WorkflowEventType[] = [];
    for await (const event of approval.watch()) {
      types.push(event.type);
      if (event.type === WorkflowEventType.WAITING_FOR_INPUT) await approval.signal("decision", { approved: true });
    }
    expect(types).toContain(WorkflowEventType.WAITING_FOR_INPUT);
    expect(types.at(-1)).toBe(WorkflowEventType.COMPLETED);
    expect(await approval.result()).toMatchObject({ approved: true });
  });
});

describe("credentials", () => {
  it("sends the API key on every call, a fixed one or one a function returns, and a missing one is unauthenticated", async () => {
    const key = `fgk_client_${"7".repeat(32)}`;
    const secured = await startSecuredTestServer(key);
    try {
      const run = await createFlowgateClient({ baseUrl: secured.baseUrl, apiKey: key }).start("greet", { name: "Key" });
      expect(await createFlowgateClient({ baseUrl: secured.baseUrl, apiKey: async () => key }).run(run.workflowId).result()).toEqual({ greeting: "Hello, Key!" });
      // A transport of the caller's own carries the key through the exported interceptor.
      const grpc = createFlowgateClient({ transport: createGrpcTransport({ baseUrl: secured.baseUrl, interceptors: [credentials({ apiKey: key })] }) });
      expect(await (await grpc.start("greet", { name: "Grpc" })).result()).toEqual({ greeting: "Hello, Grpc!" });
      const refused = await callError(createFlowgateClient({ baseUrl: secured.baseUrl }).start("greet", { name: "Nobody" }));
      expect(refused.code).toBe(Code.Unauthenticated);
    } finally {
      await secured.close();
    }
  });
});
