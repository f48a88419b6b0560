// One SQL layer for both stores Flowgate runs on: PGlite (PostgreSQL in WASM, in-process, under the data
// folder: the embedded default) and a PostgreSQL server (FLOWGATE_DATABASE_URL: scaled out, shared by every
// replica). The same SQL and the same migrations run on both; the callers see only this interface.

/** What a statement runs on: the database, or one transaction. Parameters are $1, $2, ... */
export interface Queryable {
  readonly query: <Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]) => Promise<Row[]>;
}

export interface Database extends Queryable {
  /** "pglite" or "postgres", for logs and health. */
  readonly kind: "pglite" | "postgres";
  /** Where it is, without credentials: a folder, memory, or host:port/database. */
  readonly location: string;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
