// Uploaded files: streamed to storage as they arrive, never held whole in memory, checked against the size
// and type limits on the way, and kept only when complete. FileStore is what a bucket store implements; the
// local one writes under the data folder.
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { FileTooLargeError, InvalidUploadError } from "./errors.js";

export interface UploadInfo {
  readonly filename: string;
  /** Empty: application/octet-stream. */
  readonly contentType: string;
}

export interface StoredFile {
  /** Where it is: "<uuid>/<filename>", for a workflow's input. */
  readonly key: string;
  readonly size: number;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly filename: string;
  readonly contentType: string;
}

export interface FileLimits {
  /** Largest file in bytes. */
  readonly maxBytes: number;
  /**
   * Longest wait for the next bytes, in ms (default 60 s): an upload that stalls longer is dropped, and its
   * partial file with it. It also ends uploads whose client vanished without the server hearing of it.
   */
  readonly idleMs?: number;
  /** Media types accepted: exact ("text/csv") or a family ("image/*"); empty: any. */
  readonly types: readonly string[];
}

export interface FileStore {
  /**
   * Stores `bytes` under a new key. Throws FileTooLargeError past the limit, InvalidUploadError for a type
   * not accepted or an empty file, and the abort reason when `signal` aborts before it returns, even once
   * every byte has arrived; in each case nothing is kept.
   */
  put(info: UploadInfo, bytes: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<StoredFile>;
}

/** Checks what can be checked before the first byte: the name and the type. */
export function checkUpload(info: UploadInfo, limits: FileLimits): UploadInfo {
  const filename = path.basename(info.filename.replaceAll("\\", "/")).trim();
  if (filename === "" || filename === "." || filename === "..") throw new InvalidUploadError(`filename: "${info.filename}" is not a file name`);
  const contentType = (info.contentType.split(";")[0] ?? "").trim().toLowerCase() || "application/octet-stream";
  if (limits.types.length > 0 && !limits.types.some((t) => t === contentType || (t.endsWith("/*") && contentType.startsWith(t.slice(0, -1))))) {
    throw new InvalidUploadError(`content_type: "${contentType}" is not accepted here (accepted: ${limits.types.join(", ")})`);
  }
  return { filename, contentType };
}

export class LocalFileStore implements FileStore {
  constructor(
    private readonly dir: string,
    private readonly limits: FileLimits,
  ) {}

  async put(info: UploadInfo, bytes: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<StoredFile> {
    const { filename, contentType } = checkUpload(info, this.limits);
    const key = `${randomUUID()}/${filename}`;
    const final = path.join(this.dir, key);
    // Written beside its final place under a name no reader looks for, renamed only once complete.
    const partial = path.join(this.dir, ".partial", `${randomUUID()}.part`);
    await mkdir(path.dirname(partial), { recursive: true });
    const counted = new CountedBytes(bytes, this.limits);
    try {
      await pipeline(() => counted.chunks(), createWriteStream(partial, { flags: "wx" }) as Writable, { signal });
      if (counted.size === 0) throw new InvalidUploadError("file: is empty");
      await mkdir(path.dirname(final), { recursive: true });
      await rename(partial, final);
      // A client that cancels can end its stream first: Node's HTTP/2 client sends END_STREAM, then the
      // reset. The reset is seen by the time the bytes are on disk, so an abort now still keeps nothing.
      if (signal.aborted) {
        await rm(path.dirname(final), { recursive: true, force: true });
        throw signal.reason;
      }
    } catch (err) {
      await rm(partial, { force: true });
      // The pipeline reports an abort as its own AbortError; the signal's reason says why (client gone,
      // deadline). Any other failure (too large, a bad message) is the one to report.
      throw (err as Error).name === "AbortError" && signal.aborted ? (signal.reason ?? err) : err;
    }
    return { key, size: counted.size, sha256: counted.sha256(), filename, contentType };
  }
}

const DEFAULT_IDLE_MS = 60_000;

/**
 * An upload's bytes as they pass to storage: counted against the size limit, hashed, and dropped when the
 * next bytes take longer than the idle limit. Iterate `chunks()` once; `size` and `sha256()` then describe it.
 */
export class CountedBytes {
  size = 0;
  private readonly hash = createHash("sha256");

  constructor(
    private readonly bytes: AsyncIterable<Uint8Array>,
    private readonly limits: FileLimits,
  ) {}

  async *chunks(): AsyncGenerator<Uint8Array> {
    const source = this.bytes[Symbol.asyncIterator]();
    const idleMs = this.limits.idleMs ?? DEFAULT_IDLE_MS;
    for (;;) {
      const next = await withinIdle(source.next(), idleMs);
      if (next.done === true) return;
      const chunk = next.value;
      this.size += chunk.byteLength;
      if (this.size > this.limits.maxBytes) throw new FileTooLargeError(this.limits.maxBytes);
      this.hash.update(chunk);
      yield chunk;
    }
  }

  /** Hex SHA-256 of every byte read; once only. */
  sha256(): string {
    return this.hash.digest("hex");
  }
}

/** `next`, or a refusal when it takes longer than `ms`. */
async function withinIdle<T>(next: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new InvalidUploadError(`file: no bytes arrived for ${ms / 1000} s; the upload was dropped and nothing was stored`)), ms);
  });
  try {
    return await Promise.race([next, stalled]);
  } finally {
    clearTimeout(timer);
  }
}
