// Test-only tools, pinned and cached under .flowgate/tools (ignored by git), installed through the
// registries our machines reach.
import { execFile } from "node:child_process";
import { access, constants, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const TOOLS_DIR = path.join(REPO_ROOT, ".flowgate", "tools");

export const GRPCURL_VERSION = "v1.9.3";

/** grpcurl, built once by the Go toolchain from the module proxy. */
export async function ensureGrpcurl(): Promise<string> {
  const dir = path.join(TOOLS_DIR, `grpcurl-${GRPCURL_VERSION}`);
  const bin = path.join(dir, "grpcurl");
  try {
    await access(bin, constants.X_OK);
    return bin;
  } catch {
    // not installed yet
  }
  await run("go", ["install", `github.com/fullstorydev/grpcurl/cmd/grpcurl@${GRPCURL_VERSION}`], {
    env: { ...process.env, GOBIN: dir, GOFLAGS: "-mod=mod" },
    timeout: 540_000,
  });
  return bin;
}

/** The Temporal Python SDK, for a worker in another language than Flowgate's own. */
export const PYTHON_TEMPORALIO_VERSION = "1.35.0";

/** A folder to put on PYTHONPATH that holds the pinned temporalio package (installed once from PyPI). */
export async function ensurePythonTemporal(): Promise<string> {
  const dir = path.join(TOOLS_DIR, `python-temporalio-${PYTHON_TEMPORALIO_VERSION}`);
  const marker = path.join(dir, ".complete");
  try {
    await access(marker, constants.R_OK);
    return dir;
  } catch {
    // not installed yet
  }
  await run(
    "python3",
    ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--upgrade", "--target", dir, `temporalio==${PYTHON_TEMPORALIO_VERSION}`],
    { timeout: 540_000 },
  );
  await writeFile(marker, "");
  return dir;
}

/** Schemathesis, the property-based API tester that checks the server against its OpenAPI document. */
export const SCHEMATHESIS_VERSION = "4.32.5";

/** The schemathesis command (run with python3 and PYTHONPATH = its folder), installed once from PyPI. */
export async function ensureSchemathesis(): Promise<{ script: string; pythonPath: string }> {
  const dir = path.join(TOOLS_DIR, `schemathesis-${SCHEMATHESIS_VERSION}`);
  const marker = path.join(dir, ".complete");
  try {
    await access(marker, constants.R_OK);
  } catch {
    await run(
      "python3",
      ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--upgrade", "--target", dir, `schemathesis==${SCHEMATHESIS_VERSION}`],
      { timeout: 540_000 },
    );
    await writeFile(marker, "");
  }
  return { script: path.join(dir, "bin", "schemathesis"), pythonPath: dir };
}

/** A port that was free a moment ago, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
