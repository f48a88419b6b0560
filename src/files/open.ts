// The file store the configuration names: the data folder's files/, or a bucket. The S3 SDK is loaded only
// for a bucket, so a server that stores files locally does not carry it.
import path from "node:path";
import { parseS3Url } from "./s3-url.js";
import { LocalFileStore, type FileLimits, type FileStore } from "./store.js";

export interface OpenedFileStore {
  readonly store: FileStore;
  /** Where, for logs: a folder or s3://bucket/prefix. */
  readonly location: string;
  close(): Promise<void>;
}

export async function openFileStore(options: {
  readonly filesUrl: string | undefined;
  readonly dataDir: string;
  readonly limits: FileLimits;
  readonly env: Readonly<Record<string, string | undefined>>;
}): Promise<OpenedFileStore> {
  if (options.filesUrl === undefined) {
    const dir = path.join(options.dataDir, "files");
    return { store: new LocalFileStore(dir, options.limits), location: dir, close: async () => undefined };
  }
  const location = parseS3Url(options.filesUrl);
  const { S3FileStore, s3ClientFromEnv } = await import("./s3.js");
  const client = s3ClientFromEnv(options.env);
  return {
    store: new S3FileStore(client, location, options.limits),
    location: `s3://${location.bucket}/${location.prefix}`,
    close: async () => client.destroy(),
  };
}
