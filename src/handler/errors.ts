// The handler hooks' failures and their Connect codes: the error table of src/handler (a test per row).
import { Code } from "@connectrpc/connect";
import type { ErrorTable } from "../errors/index.js";

export const HOOK_NAMES = ["testAuth", "fetchMetadata", "preflightCheck"] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** The codes a handler may refuse with, by their Connect names. */
const HANDLER_CODES = {
  invalid_argument: Code.InvalidArgument,
  failed_precondition: Code.FailedPrecondition,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
  unimplemented: Code.Unimplemented,
} as const;

export type HandlerErrorCode = keyof typeof HANDLER_CODES;

/** Marks a HandlerError across copies of this module (see isHandlerError). */
const HANDLER_ERROR = Symbol.for("flowgate.HandlerError");

/** What a hook throws to refuse: the client gets this code and this message. */
export class HandlerError extends Error {
  override name = "HandlerError";
  readonly [HANDLER_ERROR] = true;
  constructor(
    readonly code: HandlerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A HandlerError, from this module or from another copy of it: a handler module loaded through tsx (or
 * bundled with its own copy of Flowgate) throws a class that is not this one, so `instanceof` would miss it.
 */
export function isHandlerError(err: unknown): err is HandlerError {
  if (!(err instanceof Error) || (err as Partial<Record<typeof HANDLER_ERROR, unknown>>)[HANDLER_ERROR] !== true) return false;
  const { code } = err as { code?: unknown };
  return typeof code === "string" && Object.hasOwn(HANDLER_CODES, code);
}

/** A hook that threw something else: its message goes to the client, with the hook's name. */
export class HandlerFailedError extends Error {
  override name = "HandlerFailedError";
  constructor(
    readonly hook: HookName,
    cause: unknown,
  ) {
    super(`handler ${hook} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The application has no handler, or one without this hook. */
export class MissingHookError extends Error {
  override name = "MissingHookError";
  constructor(
    readonly hook: HookName,
    hasHandler: boolean,
  ) {
    super(
      hasHandler
        ? `the application's handler has no ${hook}`
        : `no application handler is configured (set FLOWGATE_HANDLER to a module exporting ${hook}, or pass a handler in code)`,
    );
  }
}

const message = (e: unknown) => (e as Error).message;

export const HANDLER_ERROR_TABLE: ErrorTable = [
  {
    name: "HandlerError",
    match: isHandlerError,
    code: (e) => HANDLER_CODES[(e as HandlerError).code],
    message,
  },
  { name: "HandlerFailedError", match: (e) => e instanceof HandlerFailedError, code: Code.Unknown, message },
  { name: "MissingHookError", match: (e) => e instanceof MissingHookError, code: Code.Unimplemented, message },
];
