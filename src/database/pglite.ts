// The embedded database: PGlite, PostgreSQL compiled to WASM, in this process, its files under the data
// folder. Nothing to install or run; one process at a time may open a folder.
//
// It is opened on first use, not at start-up: PGlite costs ~0.5 s to open an existing folder (3 s to create
// one) and ~110 MB of resident memory, which an API that never stores a config should not pay.
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import type { Database, Queryable } from "./database.js";

/** PGlite's own default is 128 MB of shared buffers; a config store needs a fraction (resident memory). */
const POSTGRESQL_CONF = "shared_buffers=8MB\nwal_buffers=256kB";

/**
 * The database in `dir` (created on first use), or in memory when `dir` is undefined. `prepare` runs once,
 * when it opens (the migrations), before any other statement.
 */
export function openPglite(dir: string | undefined, prepare: (db: Database) => Promise<unknown>): Database {
  let opening: Promise<PGlite> | undefined;
  let closed = false;
  const open = (): Promise<PGlite> => {
    if (closed) return Promise.reject(new Error("the config database is closed"));
    opening ??= (async () => {
      if (dir !== undefined) await mkdir(dir, { recursive: true });
      const pglite = await PGlite.create({ dataDir: dir, postgresqlconf: POSTGRESQL_CONF });
      try {
        await prepare(wrap(pglite));
      } catch (err) {
        await pglite.close().catch(() => {});
        throw err;
      }
      return pglite;
    })();
    // A failed open is tried again by the next call, not remembered.
    opening.catch(() => (opening = undefined));
    return opening;
  };
  const lazy: Database = {
    kind: "pglite",
    location: dir ?? "memory",
    query: async <Row>(sql: string, params?: readonly unknown[]) => wrap(await open()).query<Row>(sql, params),
    transaction: async (work) => wrap(await open()).transaction(work),
    async close() {
      closed = true;
      const pglite = await opening?.catch(() => undefined);
      await pglite?.close();
    },
  };
  return lazy;
}

/** The Database of an open PGlite. */
function wrap(pglite: PGlite): Database {
  const run = (q: Pick<PGlite, "query">): Queryable => ({
    query: async <Row>(sql: string, params: readonly unknown[] = []) => (await q.query<Row>(sql, [...params])).rows,
  });
  return {
    kind: "pglite",
    location: pglite.dataDir ?? "memory",
    query: run(pglite).query,
    transaction: (work) => pglite.transaction((tx) => work(run(tx))),
    close: () => pglite.close(),
  };
}
