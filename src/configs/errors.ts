// The config store's failures and their Connect codes: the error table of src/configs (a test per row).
import { Code } from "@connectrpc/connect";
import type { ErrorTable } from "../errors/index.js";

export class ConfigNotFoundError extends Error {
  override name = "ConfigNotFoundError";
  constructor(readonly configId: string) {
    super(`config "${configId}" not found`);
  }
}

/** A write or delete whose expected version is not the stored one: another editor wrote first. */
export class ConfigVersionMismatchError extends Error {
  override name = "ConfigVersionMismatchError";
  constructor(
    readonly configId: string,
    readonly expected: number,
    readonly actual: number | undefined,
  ) {
    super(
      expected === 0
        ? `config "${configId}" already exists (version ${actual}); expected none`
        : `config "${configId}" is at version ${actual}, not the expected ${expected}: read it again and retry`,
    );
  }
}

export class ConfigMapNotFoundError extends Error {
  override name = "ConfigMapNotFoundError";
  constructor(
    readonly configMapId: string,
    defined: readonly string[],
  ) {
    super(`config map "${configMapId}" not found (defined: ${defined.length > 0 ? defined.join(", ") : "none"})`);
  }
}

/** A request the store refuses: a page token that is not one. The message names the field. */
export class InvalidConfigRequestError extends Error {
  override name = "InvalidConfigRequestError";
}

/**
 * The database cannot be reached or dropped the connection (node-postgres's network errors and
 * PostgreSQL's connection-exception and shutdown classes): Unavailable, which clients retry.
 */
function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|EHOSTUNREACH)$/.test(code)) return true;
    // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
    if (/^(08...|57P0[123])$/.test(code)) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(err.message);
}

/**
 * A value PostgreSQL refuses to store or compare (SQLSTATE class 22, data exception): a NUL character in a
 * config, a prefix or a page token. The client's data, so InvalidArgument, never Internal.
 */
function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && typeof code === "string" && /^22[0-9A-Z]{3}$/.test(code);
}

const message = (e: unknown) => (e as Error).message;

export const CONFIGS_ERROR_TABLE: ErrorTable = [
  { name: "ConfigNotFoundError", match: (e) => e instanceof ConfigNotFoundError, code: Code.NotFound, message },
  { name: "ConfigVersionMismatchError", match: (e) => e instanceof ConfigVersionMismatchError, code: Code.Aborted, message },
  { name: "ConfigMapNotFoundError", match: (e) => e instanceof ConfigMapNotFoundError, code: Code.NotFound, message },
  { name: "InvalidConfigRequestError", match: (e) => e instanceof InvalidConfigRequestError, code: Code.InvalidArgument, message },
  {
    name: "data exception",
    match: isDataException,
    code: Code.InvalidArgument,
    message: (e) => `the config database refused a value of the request: ${(e as Error).message}`,
  },
  {
    name: "database unavailable",
    match: isDatabaseUnavailable,
    code: Code.Unavailable,
    message: (e) => `the config database cannot be reached: ${(e as Error).message}`,
  },
];
