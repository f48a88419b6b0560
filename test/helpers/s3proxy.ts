// A real S3 API server for the bucket store's tests: s3proxy (Apache jclouds behind the S3 protocol, signed
// requests, multipart uploads) on its filesystem backend, run by Java on 127.0.0.1 and a free port. The jar
// comes pinned from Maven Central, checked against its SHA-256, and is cached under .flowgate/tools.
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { access, constants, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort, TOOLS_DIR } from "./tools.js";

const S3PROXY_VERSION = "4.1.0";
const S3PROXY_SHA256 = "a4d025969aaf796616ed4b1e2491d87d455ce84bb28cb9db086b2e6aaa68b48d";
const S3PROXY_URL = `https://repo1.maven.org/maven2/org/gaul/s3proxy/${S3PROXY_VERSION}/s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar`;

export interface S3Server {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_S3. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  close(): Promise<void>;
}

/** The jar, downloaded once. */
async function ensureS3Proxy(): Promise<string> {
  const jar = path.join(TOOLS_DIR, `s3proxy-${S3PROXY_VERSION}`, "s3proxy.jar");
  try {
    await access(jar, constants.R_OK);
    return jar;
  } catch {
    // not downloaded yet
  }
  const res = await fetch(S3PROXY_URL);
  if (!res.ok) throw new Error(`s3proxy: GET ${S3PROXY_URL}: HTTP ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== S3PROXY_SHA256) throw new Error(`s3proxy: ${S3PROXY_URL} has SHA-256 ${sha256}, expected ${S3PROXY_SHA256}`);
  await mkdir(path.dirname(jar), { recursive: true });
  await writeFile(`${jar}.part`, bytes);
  await rename(`${jar}.part`, jar);
  return jar;
}

export async function startS3Server(): Promise<S3Server> {
  const jar = await ensureS3Proxy();
  const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-s3-"));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = "flowgate-test";
  const secretAccessKey = randomUUID();
  await mkdir(path.join(dir, "data"));
  await writeFile(
    path.join(dir, "s3proxy.conf"),
    [
      `s3proxy.endpoint=${endpoint}`,
      "s3proxy.authorization=aws-v2-or-v4",
      `s3proxy.identity=${accessKeyId}`,
      `s3proxy.credential=${secretAccessKey}`,
      "jclouds.provider=filesystem-nio2",
      `jclouds.filesystem.basedir=${path.join(dir, "data")}`,
    ].join("\n"),
  );
  const child = spawn("java", ["-Xmx256m", "-jar", jar, "--properties", path.join(dir, "s3proxy.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const close = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  // Up once it answers HTTP (403: an unsigned request).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`s3proxy exited:\n${output}`);
    if (Date.now() > deadline) {
      await close();
      throw new Error(`s3proxy did not answer within 60 s:\n${output}`);
    }
    const up = await fetch(endpoint).then(
      () => true,
      () => false,
    );
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { endpoint, accessKeyId, secretAccessKey, close };
}

