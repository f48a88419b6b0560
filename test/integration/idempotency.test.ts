// A request_id makes one run however its retries race, when the run they race with closes in between: with
// a slow link between Flowgate and Temporal (40 ms each way), a retry's look-up and its start are further
// apart than the whole life of a `greet` run, which the worker (on a fast link) completes in between. A
// check-then-start made a second run here every time; Temporal keying the start on the request_id makes one.
import { randomUUID } from "node:crypto";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { workflowClient } from "../helpers/protocols.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { startSlowLink, type SlowLink } from "../helpers/slow-link.js";
import { runIdsOf } from "../helpers/temporal.js";

const json = (value: JsonValue) => fromJson(ValueSchema, value);

let link: SlowLink;
let server: TestServer;
beforeAll(async () => {
  link = await startSlowLink(inject("temporalAddress"), 40);
  server = await startTestServer({ temporalAddress: link.address });
});
afterAll(async () => {
  await server?.close();
  await link?.close();
});

describe("request_id over a slow link to Temporal", () => {
  const client = () => workflowClient("connect-json", server.baseUrl);

  it("makes one run from retries that arrive before, during and after the run", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const workflowId = `slow-link-${randomUUID()}`;
      const starts = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, i * 30));
          return client().startWorkflow({ workflowType: "greet", workflowId, input: json({ name: "A" }), requestId: "r-1" });
        }),
      );
      const runIds = new Set(starts.map((s) => s.runId));
      await client().getWorkflowResult({ workflowId, wait: durationFromMs(20_000) });
      expect(await runIdsOf(workflowId), `trial ${trial}: runs in Temporal`).toEqual([...runIds]);
      expect(runIds.size, `trial ${trial}: every caller gets the one run`).toBe(1);
    }
  });
});
