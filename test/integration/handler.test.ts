// The application's handler hooks on every protocol: the payload reaches the handler as sent, its answer
// comes back, and whatever it throws maps to a Connect code with its message (never a bare 500).
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandlerError, type AppHandler, type HandlerCall } from "../../src/handler/index.js";
import { callError, isRestError, PROTOCOLS, workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const calls: HandlerCall[] = [];
let aborted = 0;

const handler: AppHandler = {
  testAuth(call) {
    calls.push(call);
    if (call.payload.token === "expired") throw new HandlerError("unauthenticated", "the token expired on 2026-01-01");
    return { success: call.payload.token === "good", message: call.payload.token === "good" ? "" : "token not recognised" };
  },
  async fetchMetadata(call) {
    if (call.payload.explode) throw new TypeError("cannot read properties of undefined (reading 'schemas')");
    if (call.payload.slow) {
      await new Promise((_resolve, reject) => call.signal.addEventListener("abort", () => reject(new Error(`aborted ${++aborted}`))));
    }
    return { tables: ["orders", "customers"], count: 2 };
  },
};

let server: TestServer;
let bare: TestServer;
beforeAll(async () => {
  [server, bare] = await Promise.all([startTestServer({ handler }), startTestServer()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), bare?.close()]);
});

describe.each(PROTOCOLS)("handler hooks over %s", (protocol) => {
  const client = () => workflowClient(protocol, server.baseUrl);

  it("hands the payload to the handler and returns its answer", async () => {
    const payload = { token: "good", nested: { list: [1, "two", null] } };
    const res = await client().testAuth({ payload });
    expect([res.success, res.message]).toEqual([true, ""]);
    expect(calls.at(-1)?.payload).toEqual(payload);
    expect((await client().testAuth({ payload: { token: "bad" } })).message).toBe("token not recognised");
  });

  it("returns a plain value as the data of a success", async () => {
    const res = await client().fetchMetadata({ payload: {} });
    expect(res.success).toBe(true);
    expect(res.data && toJson(ValueSchema, res.data)).toEqual({ tables: ["orders", "customers"], count: 2 });
  });

  it("maps a HandlerError to its code and message", async () => {
    const err = await callError(client().testAuth({ payload: { token: "expired" } }));
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, "the token expired on 2026-01-01"]);
    if (isRestError(err)) expect(err.status).toBe(401);
  });

  it("reports a handler that failed as unknown, with the hook's name and its message", async () => {
    const err = await callError(client().fetchMetadata({ payload: { explode: true } }));
    expect([err.code, err.rawMessage]).toEqual([Code.Unknown, "handler fetchMetadata failed: cannot read properties of undefined (reading 'schemas')"]);
  });

  it("is unimplemented, naming the hook, when the handler lacks it or there is none", async () => {
    const lacking = await callError(client().preflightCheck({ payload: {} }));
    expect([lacking.code, lacking.rawMessage]).toEqual([Code.Unimplemented, "the application's handler has no preflightCheck"]);
    if (isRestError(lacking)) expect(lacking.status).toBe(501);
    const none = await callError(workflowClient(protocol, bare.baseUrl).testAuth({ payload: {} }));
    expect(none.code).toBe(Code.Unimplemented);
    expect(none.rawMessage).toMatch(/^no application handler is configured \(set FLOWGATE_HANDLER/);
  });

  it("aborts the handler's signal at the call's deadline", async () => {
    const before = aborted;
    const err = await callError(client().fetchMetadata({ payload: { slow: true } }, { timeoutMs: 300 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    await expect.poll(() => aborted).toBe(before + 1);
  });
});
