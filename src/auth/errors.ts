// Authentication's refusals and their Connect codes: the error table of src/auth (a test per row).
import { Code } from "@connectrpc/connect";
import type { ErrorTable } from "../errors/index.js";

/** No credentials, or credentials that prove nothing: an unknown key, a bad or expired token. */
export class UnauthenticatedError extends Error {
  override name = "UnauthenticatedError";
}

/** A known caller without the scope the RPC (or route) declares; the message names the scope. */
export class PermissionDeniedError extends Error {
  override name = "PermissionDeniedError";
}

/** The token's keys could not be fetched (the JWKS URL is down): not the caller's fault, worth a retry. */
export class KeySetUnavailableError extends Error {
  override name = "KeySetUnavailableError";
}

/** The auth configuration cannot be used (an unreadable key file, an unknown scope); names the file and entry. */
export class AuthConfigError extends Error {
  override name = "AuthConfigError";
}

const message = (e: unknown) => (e as Error).message;

export const AUTH_ERROR_TABLE: ErrorTable = [
  { name: "UnauthenticatedError", match: (e) => e instanceof UnauthenticatedError, code: Code.Unauthenticated, message },
  { name: "PermissionDeniedError", match: (e) => e instanceof PermissionDeniedError, code: Code.PermissionDenied, message },
  { name: "KeySetUnavailableError", match: (e) => e instanceof KeySetUnavailableError, code: Code.Unavailable, message },
];
