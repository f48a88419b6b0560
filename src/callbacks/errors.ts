// Completion callbacks' refusals and their Connect codes: the error table of src/callbacks (a test per row).
import { Code } from "@connectrpc/connect";
import type { ErrorTable } from "../errors/index.js";

/** A callback URL that may not be called: not http(s), or not on an allowed origin. The message names the field. */
export class InvalidCallbackError extends Error {
  override name = "InvalidCallbackError";
}

/** A start asked for a callback on a server that allows none. */
export class CallbacksOffError extends Error {
  override name = "CallbacksOffError";
  constructor() {
    super("callback.url: completion callbacks are off on this server (set FLOWGATE_CALLBACK_ALLOW to the origins it may call)");
  }
}

const message = (e: unknown) => (e as Error).message;

export const CALLBACKS_ERROR_TABLE: ErrorTable = [
  { name: "InvalidCallbackError", match: (e) => e instanceof InvalidCallbackError, code: Code.InvalidArgument, message },
  { name: "CallbacksOffError", match: (e) => e instanceof CallbacksOffError, code: Code.FailedPrecondition, message },
];
