// Uploads in an S3 bucket (AWS, or anything that speaks its API: MinIO, R2, Ceph, s3proxy): the served
// mode's file store, so every replica sees every file. Streamed as a multipart upload in 5 MiB parts, two in
// flight, through the same size counter and hash as the local store; a refused, cut-off or empty upload is
// aborted or deleted, so nothing of it stays in the bucket.
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { InvalidUploadError } from "./errors.js";
import type { S3Location } from "./s3-url.js";
import { checkUpload, CountedBytes, type FileLimits, type FileStore, type StoredFile, type UploadInfo } from "./store.js";

const PART_BYTES = 5 * 1024 * 1024;

export class S3FileStore implements FileStore {
  constructor(
    private readonly client: S3Client,
    readonly location: S3Location,
    private readonly limits: FileLimits,
  ) {}

  async put(info: UploadInfo, bytes: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<StoredFile> {
    const { filename, contentType } = checkUpload(info, this.limits);
    const key = `${this.location.prefix}${randomUUID()}/${filename}`;
    const counted = new CountedBytes(bytes, this.limits);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.location.bucket, Key: key, Body: Readable.from(counted.chunks()), ContentType: contentType },
      partSize: PART_BYTES,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort().catch(() => undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await upload.done();
      // Complete, but empty, or cancelled as it completed (see LocalFileStore): remove it again.
      if (counted.size === 0 || signal.aborted) {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: key }));
        throw signal.aborted ? signal.reason : new InvalidUploadError("file: is empty");
      }
    } catch (err) {
      // Aborted by us: the signal's reason says why. Any other failure (too large, idle, S3 refused) is the one to report.
      throw signal.aborted && (err as Error).name === "AbortError" ? signal.reason : err;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    return { key, size: counted.size, sha256: counted.sha256(), filename, contentType };
  }
}

/**
 * An S3 client from the standard AWS variables (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN; without keys, the SDK's chain: AWS_PROFILE, instance roles, ...). A custom endpoint (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL: MinIO, s3proxy, R2)
 * is addressed path-style, which every such server accepts.
 */
export function s3ClientFromEnv(env: Readonly<Record<string, string | undefined>>): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    // Keys in the configuration's variables; otherwise the SDK's own chain (profiles, instance roles, ...).
    ...(accessKeyId !== undefined && secretAccessKey !== undefined ? { credentials: { accessKeyId, secretAccessKey, sessionToken } } : {}),
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
  });
}
