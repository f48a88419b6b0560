// The config store on both databases it runs on: PGlite (embedded) and a real PostgreSQL server. Same SQL,
// same migrations, same answers; concurrent editors never overwrite each other silently.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ConfigNotFoundError, ConfigStore, ConfigVersionMismatchError, InvalidConfigRequestError } from "../../src/configs/index.js";
import { migrate, MIGRATIONS, openDatabase, type Database } from "../../src/database/index.js";
import { freshDatabase } from "../helpers/postgres.js";

const DATABASES = ["pglite", "postgres"] as const;

async function open(kind: (typeof DATABASES)[number]): Promise<Database> {
  return kind === "pglite" ? openDatabase({}) : openDatabase({ url: await freshDatabase(inject("postgresUrl")) });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure");
}

describe.each(DATABASES)("on %s", (kind) => {
  let db: Database;
  let store: ConfigStore;
  beforeAll(async () => {
    db = await open(kind);
    store = new ConfigStore(db);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  it("creates at version 1 and raises the version on every write", async () => {
    const created = await store.put("app.one", { source: { host: "db.local", port: 5432 } }, { mode: "replace", expectedVersion: undefined });
    expect(created).toMatchObject({ configId: "app.one", version: 1, config: { source: { host: "db.local", port: 5432 } } });
    expect(created.createTime.getTime()).toBe(created.updateTime.getTime());
    const replaced = await store.put("app.one", { other: true }, { mode: "replace", expectedVersion: 1 });
    expect(replaced).toMatchObject({ version: 2, config: { other: true } });
    expect(replaced.updateTime.getTime()).toBeGreaterThanOrEqual(created.updateTime.getTime());
    expect(replaced.createTime).toEqual(created.createTime);
    expect(await store.get("app.one")).toEqual(replaced);
  });

  it("applies a merge patch to the stored document", async () => {
    await store.put("merge", { a: { b: 1, c: 2 }, keep: "x" }, { mode: "replace", expectedVersion: 0 });
    const merged = await store.put("merge", { a: { b: null, d: [1, 2] }, extra: 1.5 }, { mode: "merge", expectedVersion: undefined });
    expect(merged).toMatchObject({ version: 2, config: { a: { c: 2, d: [1, 2] }, keep: "x", extra: 1.5 } });
    // On a config that does not exist yet, the patch applies to {} (its nulls dropped).
    expect((await store.put("merge-new", { a: 1, b: null }, { mode: "merge", expectedVersion: undefined })).config).toEqual({ a: 1 });
  });

  it("refuses a stale expected version, a create over an existing config, and a version on a missing one", async () => {
    await store.put("stale", { v: 1 }, { mode: "replace", expectedVersion: 0 });
    await store.put("stale", { v: 2 }, { mode: "replace", expectedVersion: 1 });
    const stale = await failure(store.put("stale", { v: "lost" }, { mode: "replace", expectedVersion: 1 }));
    expect(stale).toBeInstanceOf(ConfigVersionMismatchError);
    expect(stale.message).toBe('config "stale" is at version 2, not the expected 1: read it again and retry');
    expect(await failure(store.put("stale", { v: "new" }, { mode: "replace", expectedVersion: 0 }))).toBeInstanceOf(ConfigVersionMismatchError);
    expect(await failure(store.put("never", {}, { mode: "replace", expectedVersion: 3 }))).toBeInstanceOf(ConfigNotFoundError);
    expect((await store.get("stale")).config).toEqual({ v: 2 });
  });

  it("lets exactly one of many concurrent editors of one version win", async () => {
    await store.put("contended", { n: 0 }, { mode: "replace", expectedVersion: 0 });
    const editors = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.put("contended", { n: i + 1 }, { mode: "replace", expectedVersion: 1 })),
    );
    const won = editors.filter((e) => e.status === "fulfilled");
    const lost = editors.filter((e) => e.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost.every((e) => e.reason instanceof ConfigVersionMismatchError)).toBe(true);
    const stored = await store.get("contended");
    expect(stored.version).toBe(2);
    expect(stored.config).toEqual((won[0] as PromiseFulfilledResult<{ config: unknown }>).value.config);
  });

  it("makes one config, not two, from concurrent creates, and applies every unconditional merge", async () => {
    const creates = await Promise.allSettled(Array.from({ length: 10 }, () => store.put("raced", { x: 1 }, { mode: "replace", expectedVersion: 0 })));
    expect(creates.filter((c) => c.status === "fulfilled")).toHaveLength(1);
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.put("raced", { [`k${i}`]: i }, { mode: "merge", expectedVersion: undefined })));
    const stored = await store.get("raced");
    expect(stored.version).toBe(11);
    expect(Object.keys(stored.config).sort()).toEqual(["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "x"]);
  });

  it("lists in id order, a page at a time, under a prefix", async () => {
    for (const id of ["list.b", "list.a", "list.c", "listless"]) await store.put(id, { id }, { mode: "replace", expectedVersion: undefined });
    const first = await store.list(2, "", "list.");
    expect(first.configs.map((c) => c.configId)).toEqual(["list.a", "list.b"]);
    const second = await store.list(2, first.nextPageToken, "list.");
    expect(second.configs.map((c) => c.configId)).toEqual(["list.c"]);
    expect(second.nextPageToken).toBe("");
    expect(await failure(store.list(2, "not a token!", ""))).toBeInstanceOf(InvalidConfigRequestError);
  });

  it("deletes, at an expected version when given one", async () => {
    await store.put("doomed", { a: 1 }, { mode: "replace", expectedVersion: undefined });
    await store.put("doomed", { a: 2 }, { mode: "replace", expectedVersion: undefined });
    expect(await failure(store.delete("doomed", 1))).toBeInstanceOf(ConfigVersionMismatchError);
    expect(await store.delete("doomed", 2)).toBe(2);
    expect(await failure(store.get("doomed"))).toBeInstanceOf(ConfigNotFoundError);
    expect(await failure(store.delete("doomed", undefined))).toBeInstanceOf(ConfigNotFoundError);
  });

  it("never gives a version twice: a config created again after a delete continues from the deleted one", async () => {
    await store.put("reborn", { gen: 1 }, { mode: "replace", expectedVersion: 0 });
    await store.put("reborn", { gen: 1.1 }, { mode: "replace", expectedVersion: 1 });
    expect(await store.delete("reborn", 2)).toBe(2);
    expect((await store.list(100, "", "reborn")).configs).toEqual([]);
    // An editor who read version 2 before the delete cannot write over the new document.
    expect(await failure(store.put("reborn", { gen: "stale" }, { mode: "replace", expectedVersion: 2 }))).toBeInstanceOf(ConfigNotFoundError);
    const again = await store.put("reborn", { gen: 2 }, { mode: "replace", expectedVersion: 0 });
    expect(again).toMatchObject({ version: 3, config: { gen: 2 } });
    expect(await failure(store.put("reborn", { gen: "stale" }, { mode: "replace", expectedVersion: 2 }))).toBeInstanceOf(ConfigVersionMismatchError);
  });

  it("refuses a value the database cannot hold as the client's mistake", async () => {
    const err = await failure(store.put("nul", { text: "a\u0000b" }, { mode: "replace", expectedVersion: undefined }));
    expect((err as { code?: string }).code).toMatch(/^22/);
  });

  it("migrates once however often it is asked, and refuses a schema newer than it knows", async () => {
    expect(await Promise.all([migrate(db), migrate(db)])).toEqual([[], []]);
    const later = [...MIGRATIONS, { version: 99, name: "from the future", sql: "SELECT 1" }];
    expect(await migrate(db, later)).toEqual([99]);
    expect((await failure(migrate(db))).message).toMatch(/schema is at version 99, newer than this Flowgate knows \(2\)/);
    await db.query("DELETE FROM flowgate_migrations WHERE version = 99");
  });
});

describe("PGlite in a folder", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-pglite-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps configs across a restart", async () => {
    const first = await openDatabase({ pgliteDir: path.join(dir, "pglite") });
    await new ConfigStore(first).put("kept", { a: 1 }, { mode: "replace", expectedVersion: undefined });
    await first.close();
    const second = await openDatabase({ pgliteDir: path.join(dir, "pglite") });
    expect((await new ConfigStore(second).get("kept")).config).toEqual({ a: 1 });
    await second.close();
  }, 60_000);
});

describe("PostgreSQL that cannot be reached", () => {
  it("fails to open with a connection error", async () => {
    const err = await failure(openDatabase({ url: "postgres://flowgate@127.0.0.1:1/none" }));
    expect((err as { code?: string }).code).toBe("ECONNREFUSED");
  });
});
