// FLOWGATE_FILES_URL's bucket form, parsed without loading the S3 SDK (which only a bucket store needs).

export interface S3Location {
  readonly bucket: string;
  /** Prepended to every key: "" or ending in "/". */
  readonly prefix: string;
}

/** The bucket and prefix of an "s3://bucket[/prefix]" URL; throws naming what is wrong. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(url);
  if (match === null) throw new Error(`"${url}" is not s3://bucket[/prefix] (a bucket name is 3-63 lowercase letters, digits, dots and hyphens)`);
  const prefix = (match[2] ?? "").replace(/^\/+/, "");
  return { bucket: match[1]!, prefix: prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/` };
}
