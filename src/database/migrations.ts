// The schema, as an ordered list of migrations applied once each, in one transaction, under an advisory
// lock: replicas starting together apply each migration once, and a failed one leaves nothing half done.
// Add a migration at the end; never edit one that has shipped.
import type { Database } from "./database.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "configs",
    sql: `
      CREATE TABLE flowgate_configs (
        -- "C" collation: ids sort by their bytes, the same on every server, so pages are stable.
        config_id   text COLLATE "C" PRIMARY KEY,
        config      jsonb NOT NULL,
        version     integer NOT NULL CHECK (version >= 1),
        create_time timestamptz NOT NULL DEFAULT now(),
        update_time timestamptz NOT NULL DEFAULT now(),
        -- A deleted config stays as a tombstone keeping its version, so one created again later continues
        -- from it: a version (an ETag) never names two different documents.
        deleted     boolean NOT NULL DEFAULT false
      );
    `,
  },
  {
    version: 2,
    name: "callback dead letters",
    sql: `
      -- Completion callbacks whose every attempt failed: what was to be sent, where, and why it was not.
      CREATE TABLE flowgate_callback_dead_letters (
        -- The delivery's workflow id ("flowgate-callback:<workflow id>:<run id>"): one letter per callback.
        callback_id text COLLATE "C" PRIMARY KEY,
        url         text NOT NULL,
        workflow_id text NOT NULL,
        run_id      text NOT NULL,
        -- NULL when the run was gone before it closed: there was nothing to send.
        body        jsonb,
        last_error  text NOT NULL,
        create_time timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

/** An arbitrary constant: the key of the advisory lock migrations take. */
const MIGRATION_LOCK = 7_341_902_218;

/** Applies the migrations not yet applied; returns their versions. Throws when the database is newer than this code. */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS flowgate_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )
    `);
    const rows = await tx.query<{ version: number }>("SELECT version FROM flowgate_migrations ORDER BY version");
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) {
      throw new Error(`the database's schema is at version ${newest}, newer than this Flowgate knows (${known}): run a newer Flowgate`);
    }
    const pending = migrations.filter((m) => !applied.has(m.version));
    for (const m of pending) {
      await tx.query(m.sql);
      await tx.query("INSERT INTO flowgate_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
    }
    return pending.map((m) => m.version);
  });
}
