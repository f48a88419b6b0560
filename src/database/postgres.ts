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
      // A checked-out client has no listener of the pool's: a connection the server drops mid-transaction
      // would be an uncaught 'error' event and take the process down. The failing query reports it.
      const ignore = () => {};
      client.on("error", ignore);
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const result = await work(run(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch((rollbackErr: unknown) => (broken = rollbackErr as Error));
        throw err;
      } finally {
        client.off("error", ignore);
        // A connection that could not even roll back is destroyed, not returned to the pool.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
