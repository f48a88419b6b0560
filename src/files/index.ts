// Uploaded files: streamed to a store (the data folder by default), with size and type limits.
export { FILES_ERROR_TABLE, FileTooLargeError, InvalidUploadError } from "./errors.js";
export { checkUpload, LocalFileStore } from "./store.js";
export type { FileLimits, FileStore, StoredFile, UploadInfo } from "./store.js";
export { openFileStore } from "./open.js";
export type { OpenedFileStore } from "./open.js";
export { parseS3Url } from "./s3-url.js";
export type { S3Location } from "./s3-url.js";
