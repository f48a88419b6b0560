// ConfigService on every protocol: versions, conditional writes (also as HTTP's If-Match / If-None-Match and
// ETag on REST), merge patches, paging, deletion, config maps, and the errors each refusal gets.
import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { UpdateMode } from "../../gen/flowgate/config/v1/config_pb.js";
import { openDatabase, type Database } from "../../src/database/index.js";
import { SAMPLE_CONFIG_MAPS } from "../../src/samples/index.js";
import { callError, configClient, isRestError, PROTOCOLS } from "../helpers/protocols.js";
import { freshDatabase } from "../helpers/postgres.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ configMaps: SAMPLE_CONFIG_MAPS });
});
afterAll(async () => {
  await server?.close();
});

const newId = () => `cfg-${randomUUID()}`;

describe.each(PROTOCOLS)("ConfigService over %s", (protocol) => {
  const configs = () => configClient(protocol, server.baseUrl);

  it("stores a config and reads it back with its version and times", async () => {
    const configId = newId();
    const written = await configs().updateConfig({ configId, config: { source: { host: "db", port: 5432 }, tags: ["a"] } });
    expect(written).toMatchObject({ configId, version: 1, config: { source: { host: "db", port: 5432 }, tags: ["a"] } });
    expect(written.updateTime).toBeDefined();
    const read = await configs().getConfig({ configId });
    expect(read).toMatchObject({ configId, version: 1, config: written.config });
    expect(read.createTime).toEqual(written.createTime);
  });

  it("refuses a write at a stale version with Aborted, and keeps the other editor's write", async () => {
    const configId = newId();
    await configs().updateConfig({ configId, config: { v: 1 }, expectedVersion: 0 });
    await configs().updateConfig({ configId, config: { v: 2 }, expectedVersion: 1 });
    const err = await callError(configs().updateConfig({ configId, config: { v: "mine" }, expectedVersion: 1 }));
    expect(err.code).toBe(Code.Aborted);
    expect(err.rawMessage).toBe(`config "${configId}" is at version 2, not the expected 1: read it again and retry`);
    if (isRestError(err)) expect(err.status).toBe(409);
    expect((await configs().getConfig({ configId })).config).toEqual({ v: 2 });
  });

  it("merges a patch into the stored document", async () => {
    const configId = newId();
    await configs().updateConfig({ configId, config: { a: { b: 1, c: 2 }, keep: true } });
    const merged = await configs().updateConfig({ configId, config: { a: { b: null, d: "x" } }, mode: UpdateMode.MERGE_PATCH });
    expect(merged).toMatchObject({ version: 2, config: { a: { c: 2, d: "x" }, keep: true } });
  });

  it("answers NotFound for an unknown config, and InvalidArgument for a bad id", async () => {
    const missing = await callError(configs().getConfig({ configId: "never-written" }));
    expect(missing.code).toBe(Code.NotFound);
    expect(missing.rawMessage).toBe('config "never-written" not found');
    const bad = await callError(configs().getConfig({ configId: "no spaces" }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toMatch(/config_id/);
  });

  it("lists a page at a time and deletes", async () => {
    const prefix = `${newId()}.`;
    for (const id of ["b", "a", "c"]) await configs().updateConfig({ configId: prefix + id, config: { id } });
    const first = await configs().listConfigs({ prefix, pageSize: 2 });
    expect(first.configs.map((c) => c.configId)).toEqual([`${prefix}a`, `${prefix}b`]);
    const second = await configs().listConfigs({ prefix, pageSize: 2, pageToken: first.nextPageToken });
    expect(second.configs.map((c) => [c.configId, c.config])).toEqual([[`${prefix}c`, { id: "c" }]]);
    expect(second.nextPageToken).toBe("");
    const stale = await callError(configs().deleteConfig({ configId: `${prefix}a`, expectedVersion: 2 }));
    expect(stale.code).toBe(Code.Aborted);
    expect((await configs().deleteConfig({ configId: `${prefix}a`, expectedVersion: 1 })).version).toBe(1);
    expect((await callError(configs().getConfig({ configId: `${prefix}a` }))).code).toBe(Code.NotFound);
  });

  it("serves the application's config maps, and names the defined ones for an unknown id", async () => {
    const map = await configs().getConfigMap({ configMapId: "greet" });
    expect(map.configMap).toEqual(SAMPLE_CONFIG_MAPS.greet);
    const err = await callError(configs().getConfigMap({ configMapId: "nope" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe('config map "nope" not found (defined: greet)');
  });

  it("takes the expected version from If-Match, and creates only with If-None-Match: *", async () => {
    const configId = newId();
    await configs().updateConfig({ configId, config: { v: 1 } }, { headers: { "if-none-match": "*" } });
    const again = await callError(configs().updateConfig({ configId, config: { v: 1 } }, { headers: { "if-none-match": "*" } }));
    expect(again.code).toBe(Code.Aborted);
    await configs().updateConfig({ configId, config: { v: 2 } }, { headers: { "if-match": '"1"' } });
    const stale = await callError(configs().updateConfig({ configId, config: { v: 3 } }, { headers: { "if-match": '"1"' } }));
    expect(stale.code).toBe(Code.Aborted);
    const weak = await callError(configs().updateConfig({ configId, config: { v: 3 } }, { headers: { "if-match": 'W/"2"' } }));
    expect(weak.code).toBe(Code.InvalidArgument);
    expect(weak.rawMessage).toMatch(/^If-Match: /);
    const disagree = await callError(configs().updateConfig({ configId, config: {}, expectedVersion: 1 }, { headers: { "if-match": '"2"' } }));
    expect(disagree.code).toBe(Code.InvalidArgument);
  });
});

describe("REST and HTTP caching headers", () => {
  it("sends the version as the ETag on reads and writes", async () => {
    const configId = newId();
    const put = await fetch(`${server.baseUrl}/workflows/v1/config/${configId}`, { method: "POST", body: JSON.stringify({ config: { a: 1 } }) });
    expect(put.status).toBe(200);
    expect(put.headers.get("etag")).toBe('"1"');
    const get = await fetch(`${server.baseUrl}/workflows/v1/config/${configId}`);
    expect(get.headers.get("etag")).toBe('"1"');
    expect(await get.json()).toMatchObject({ config_id: configId, config: { a: 1 }, version: 1 });
    const stale = await fetch(`${server.baseUrl}/workflows/v1/config/${configId}`, {
      method: "POST",
      headers: { "if-match": '"7"' },
      body: JSON.stringify({ config: { a: 2 } }),
    });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toEqual({ code: "aborted", message: `config "${configId}" is at version 1, not the expected 7: read it again and retry` });
  });

  it("answers a NUL character in a config with 400, not 500", async () => {
    const res = await fetch(`${server.baseUrl}/workflows/v1/config/${newId()}`, { method: "POST", body: JSON.stringify({ config: { a: "x\u0000y" } }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^the config database refused a value of the request: /) });
  });

  it("refuses a config that is not a JSON object, naming the field", async () => {
    const res = await fetch(`${server.baseUrl}/workflows/v1/config/${newId()}`, { method: "POST", body: JSON.stringify({ config: [1, 2] }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/config/);
  });
});

describe("on PostgreSQL, shared by two replicas", () => {
  let databases: Database[];
  let replicas: TestServer[];
  beforeAll(async () => {
    // Two apps, each with a pool of its own on the same database, as two processes would have.
    const url = await freshDatabase(inject("postgresUrl"));
    databases = [await openDatabase({ url }), await openDatabase({ url })];
    replicas = await Promise.all(databases.map((database) => startTestServer({ database })));
  });
  afterAll(async () => {
    for (const r of replicas ?? []) await r.close();
    for (const d of databases ?? []) await d.close();
  });

  it("lets exactly one of two editors at the same version win, across replicas", async () => {
    const configId = newId();
    await configClient("rest", replicas[0]!.baseUrl).updateConfig({ configId, config: { n: 0 } });
    const edits = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => configClient(i % 2 ? "grpc" : "rest", replicas[i % 2]!.baseUrl).updateConfig({ configId, config: { n: i }, expectedVersion: 1 })),
    );
    expect(edits.filter((e) => e.status === "fulfilled")).toHaveLength(1);
    expect(edits.filter((e) => e.status === "rejected").every((e) => (e.reason as { code?: Code }).code === Code.Aborted)).toBe(true);
    expect((await configClient("connect-json", replicas[1]!.baseUrl).getConfig({ configId })).version).toBe(2);
  });
});
