// The events domain's failures and their Connect codes: the error table of src/events (a test per row).
import { Code } from "@connectrpc/connect";
import type { ErrorTable } from "../errors/index.js";

/** A trigger that cannot be registered (at start-up): a duplicate id, an unknown workflow type, a bad filter. */
export class TriggerRegistrationError extends Error {
  override name = "TriggerRegistrationError";
}

/** A published event the triggers cannot take: no id, for one. The message names the field. */
export class InvalidEventError extends Error {
  override name = "InvalidEventError";
}

export const EVENTS_ERROR_TABLE: ErrorTable = [
  { name: "InvalidEventError", match: (e) => e instanceof InvalidEventError, code: Code.InvalidArgument, message: (e) => (e as Error).message },
];
