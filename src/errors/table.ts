// An error table turns one source's failures (Temporal's, the workflow rules', the registry's, later the
// config store's) into Connect errors. Each source keeps its own table beside its code, with a test per row;
// the transport layer receives the tables as arguments and never imports the sources themselves.
import { type Code, ConnectError } from "@connectrpc/connect";

/** One row: which failure, which Connect code, and the message (and details) the client reads. */
export interface ErrorRow {
  /** Names the row in its test, which must cover every row. */
  readonly name: string;
  readonly match: (err: unknown) => boolean;
  readonly code: Code | ((err: unknown) => Code);
  readonly message: (err: unknown) => string;
  /** Structured details for the client, such as buf.validate violations. */
  readonly details?: (err: unknown) => ConstructorParameters<typeof ConnectError>[3];
}

export type ErrorTable = readonly ErrorRow[];

/**
 * A failure with a word on where it happened ("trigger \"orders\""): it maps as its cause does, with the
 * context in front of the message. For code that fans one call out, so the client learns which part failed.
 */
export class ErrorContext extends Error {
  override name = "ErrorContext";
  constructor(
    readonly context: string,
    cause: unknown,
  ) {
    super(`${context}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The Connect error of the first row that matches, keeping the original as `cause`; undefined when none does. */
export function mapThroughTables(tables: readonly ErrorTable[], err: unknown): ConnectError | undefined {
  if (err instanceof ErrorContext) {
    const inner = err.cause instanceof ConnectError ? err.cause : mapThroughTables(tables, err.cause);
    if (inner === undefined) return undefined;
    // The inner error was made here from a row's outgoing details, or by a handler: its details go out as they are.
    const details = inner.details as ConstructorParameters<typeof ConnectError>[3];
    return new ConnectError(`${err.context}: ${inner.rawMessage}`, inner.code, inner.metadata, details, err);
  }
  for (const table of tables) {
    const row = table.find((r) => r.match(err));
    if (row === undefined) continue;
    const code = typeof row.code === "function" ? row.code(err) : row.code;
    return new ConnectError(row.message(err), code, undefined, row.details?.(err), err);
  }
  return undefined;
}
