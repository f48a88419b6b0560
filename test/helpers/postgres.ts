// A real PostgreSQL server for the tests, from the machine's PostgreSQL binaries (Debian's `postgresql`
// package; .ci/run installs it): a fresh cluster in a temporary folder, on 127.0.0.1 and a free port, trust
// authentication, stopped (and its folder removed) at the end of the run. Each test file takes a database of
// its own (freshDatabase), so files never see each other's rows.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmod, chown, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./tools.js";

const run = promisify(execFile);

export interface PostgresServer {
  /** postgres://flowgate@127.0.0.1:PORT/postgres */
  readonly url: string;
  stop(): Promise<void>;
}

/** The folder of initdb and pg_ctl: FLOWGATE_TEST_PG_BIN, else the newest /usr/lib/postgresql/<v>/bin. */
async function binDir(): Promise<string> {
  if (process.env.FLOWGATE_TEST_PG_BIN) return process.env.FLOWGATE_TEST_PG_BIN;
  const versions = await readdir("/usr/lib/postgresql").catch(() => [] as string[]);
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) {
    throw new Error(
      "the tests need a PostgreSQL server's binaries (initdb, pg_ctl): install Debian's `postgresql` package " +
        "(apt-get install postgresql; .ci/run does) or set FLOWGATE_TEST_PG_BIN to their folder",
    );
  }
  return `/usr/lib/postgresql/${newest}/bin`;
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user the package made. */
async function asServerUser(): Promise<{ prefix: string[]; uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const { stdout } = await run("id", ["-u", "postgres"]).catch(() => {
    throw new Error("running as root, the tests start PostgreSQL as the `postgres` user, which does not exist (install Debian's `postgresql`)");
  });
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  return { prefix: ["runuser", "-u", "postgres", "--"], uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = await binDir();
  const user = await asServerUser();
  const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-pg-"));
  if (user.uid !== undefined) await chown(dir, user.uid, user.gid!);
  await chmod(dir, 0o700);
  const data = path.join(dir, "data");
  const exec = async (cmd: string, args: string[]) => {
    const [file, ...rest] = [...user.prefix, path.join(bin, cmd), ...args];
    try {
      await run(file!, rest, { timeout: 60_000 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${cmd} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
    }
  };
  await exec("initdb", ["-D", data, "-U", "flowgate", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  // fsync off: a test cluster trades durability for speed. Unix sockets in the cluster's own folder.
  const options = `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  await exec("pg_ctl", ["-D", data, "-o", options, "-l", path.join(dir, "server.log"), "-w", "-t", "60", "start"]);
  const url = `postgres://flowgate@127.0.0.1:${port}/postgres`;
  return {
    url,
    async stop() {
      await exec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A new, empty database on the server; its URL. */
export async function freshDatabase(serverUrl: string): Promise<string> {
  const name = `test_${randomUUID().replaceAll("-", "")}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

