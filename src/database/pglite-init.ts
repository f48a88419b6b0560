// Creates a PGlite data folder, then exits: run as a child process by pglite.ts. PGlite's initdb grows its
// WASM memory to ~700 MB, and WASM memory never shrinks, so the API process would keep that for good.
// Opening a folder that exists takes a fraction of it.
import { PGlite } from "@electric-sql/pglite";
import { POSTGRESQL_CONF } from "./pglite-conf.js";

const dir = process.argv[2];
if (dir === undefined) {
  console.error("usage: pglite-init <data folder>");
  process.exit(2);
}
const db = await PGlite.create({ dataDir: dir, postgresqlconf: POSTGRESQL_CONF });
await db.close();
