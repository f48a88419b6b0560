// The file store's failures and their Connect codes: the error table of src/files (a test per row).
import { Code } from "@connectrpc/connect";
import type { ErrorTable } from "../errors/index.js";

/** An upload over the size limit: nothing of it is kept. */
export class FileTooLargeError extends Error {
  override name = "FileTooLargeError";
  constructor(readonly limitBytes: number) {
    super(`the file is larger than this server accepts (${limitBytes} bytes); nothing was stored`);
  }
}

/** An upload the store refuses as it is: a type not accepted, no name, no bytes. The message names the field. */
export class InvalidUploadError extends Error {
  override name = "InvalidUploadError";
}

const message = (e: unknown) => (e as Error).message;

export const FILES_ERROR_TABLE: ErrorTable = [
  { name: "FileTooLargeError", match: (e) => e instanceof FileTooLargeError, code: Code.ResourceExhausted, message },
  { name: "InvalidUploadError", match: (e) => e instanceof InvalidUploadError, code: Code.InvalidArgument, message },
];
