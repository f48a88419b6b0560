// A PostgreSQL server, through node-postgres's pool: what replicas share when Flowgate is scaled out.
import pg from "pg";
import type { Database, Queryable } from "./database.js";

export interface PostgresOptions {
  /** postgres://user:password@host:port/database?sslmode=... */
  readonly url: string;
  /** Connections kept at most; default 10. */
  readonly maxConnections?: number;
  /** How long a statement may take before the server cancels it; default 30 s. */
  readonly statementTimeoutMs?: number;
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: "flowgate",
  });
  // An idle connection the server dropped is an error event on the pool; without a listener it would crash
  // the process. The next query gets a fresh connection.
  pool.on("error", () => {});
  const run = (client: pg.Pool | pg.PoolClient): Queryable => ({
    query: async <Row>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, [...params])).rows as Row[],
  });
  const direct = run(pool);
  const url = new URL(options.url);
  return {
    kind: "postgres",
    location: `${url.hostname}:${url.port || 5432}${url.pathname}`,
    query: direct.query,
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work(run(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
