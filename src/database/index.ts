// The SQL layer: PGlite embedded or a PostgreSQL server, one interface, one schema with migrations.
import type { Database } from "./database.js";
import { migrate } from "./migrations.js";
import { openPglite } from "./pglite.js";
import { openPostgres } from "./postgres.js";

export type { Database, Queryable } from "./database.js";
export { migrate, MIGRATIONS } from "./migrations.js";
export type { Migration } from "./migrations.js";

/**
 * PostgreSQL at `url` when set: connected and migrated now, so a bad URL stops start-up. Else PGlite in
 * `pgliteDir` (in memory when that is undefined too), opened and migrated on first use.
 */
export async function openDatabase(target: { url?: string | undefined; pgliteDir?: string | undefined }): Promise<Database> {
  if (target.url === undefined) return openPglite(target.pgliteDir, migrate);
  const db = await openPostgres({ url: target.url });
  try {
    await migrate(db);
    return db;
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
