// The embedded database: PGlite, PostgreSQL compiled to WASM, in this process, its files under the data
// folder. Nothing to install or run; one process at a time may open a folder.
//
// It is opened on first use, not at start-up: PGlite costs ~0.5 s to open an existing folder and ~110 MB of
// resident memory, which an API that never stores a config should not pay. A new folder is created at
// start-up in a child process (3 s, and memory that process takes with it).
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { access, mkdir, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import type { Database, Queryable } from "./database.js";
import { POSTGRESQL_CONF } from "./pglite-conf.js";

/** This module's own extension: .ts when run from source (tsx), .js when compiled to dist/. */
const EXT = path.extname(fileURLToPath(import.meta.url));
const INIT_MAIN = fileURLToPath(new URL(`./pglite-init${EXT}`, import.meta.url));

/**
 * Creates the data folder in a child process (see pglite-init.ts), unless it holds a database already. The
 * child writes a sibling folder that is renamed into place once complete, so a crash or a kill mid-way, or
 * a second process doing the same, never leaves a half-made folder where the database belongs.
 */
async function createFolder(dir: string, signal: AbortSignal): Promise<void> {
  const made = () =>
    access(path.join(dir, "PG_VERSION")).then(
      () => true,
      () => false,
    );
  if (await made()) return;
  await mkdir(path.dirname(dir), { recursive: true });
  const staging = `${dir}.init-${randomUUID()}`;
  const loader = EXT === ".ts" ? ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href] : [];
  try {
    await promisify(execFile)(process.execPath, [...loader, INIT_MAIN, staging], { timeout: 120_000, signal });
    await rename(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (await made()) return; // another process made it first
    const e = err as { stderr?: string; message: string };
    throw new Error(`cannot create the embedded database in "${dir}": ${e.stderr?.trim() || e.message}`);
  }
}

/**
 * The database in `dir` (created on first use), or in memory when `dir` is undefined. `prepare` runs once,
 * when it opens (the migrations), before any other statement.
 */
export function openPglite(dir: string | undefined, prepare: (db: Database) => Promise<unknown>): Database {
  let opening: Promise<PGlite> | undefined;
  let closed = false;
  // A new folder is created right away, in the background (a child process: no memory of ours), so the
  // first config call pays only the open. A failure is reported by that call, which tries again.
  const stopInit = new AbortController();
  let folder = dir === undefined ? Promise.resolve() : createFolder(dir, stopInit.signal);
  folder.catch(() => {});
  const open = (): Promise<PGlite> => {
    if (closed) return Promise.reject(new Error("the config database is closed"));
    opening ??= (async () => {
      if (dir !== undefined) await folder.catch(() => (folder = createFolder(dir, stopInit.signal)));
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
      stopInit.abort();
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
