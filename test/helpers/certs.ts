// Test certificates, made with openssl: a CA, a server certificate it signed (for 127.0.0.1 and localhost),
// a client certificate it signed (mTLS), and an unrelated CA that trusts none of them, with a client
// certificate of its own. issueCert makes more: a renewed server certificate, a client with other names.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Pem {
  readonly file: string;
  readonly pem: Buffer;
}

export interface TestCerts {
  readonly dir: string;
  readonly ca: Pem;
  readonly serverCert: Pem;
  readonly serverKey: Pem;
  readonly clientCert: Pem;
  readonly clientKey: Pem;
  /** A CA that signed none of the above: trusting it alone must fail. */
  readonly otherCa: Pem;
  /** A client certificate with the same subject as `clientCert`, signed by `otherCa`. */
  readonly otherClientCert: Pem;
  readonly otherClientKey: Pem;
}

export interface IssueOptions {
  readonly cn: string;
  /** openssl x509 extensions, one per line. */
  readonly extensions: string;
  /** The signing CA; `ca` by default. */
  readonly by?: "ca" | "other-ca";
}

const SERVER_EXTENSIONS = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";
const CLIENT_EXTENSIONS = "extendedKeyUsage=clientAuth\n";
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function pem(file: string): Promise<Pem> {
  return { file, pem: await readFile(file) };
}

/** A new key and a certificate for it, signed by one of `dir`'s CAs: `<name>.pem` and `<name>.key`. */
async function issue(dir: string, name: string, options: IssueOptions): Promise<{ cert: Pem; key: Pem }> {
  const f = (file: string) => path.join(dir, file);
  const ca = options.by ?? "ca";
  await run("openssl", ["req", ...EC, "-subj", `/CN=${options.cn}`, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`)]);
  await writeFile(f(`${name}.ext`), options.extensions);
  await run("openssl", [
    "x509", "-req", "-in", f(`${name}.csr`), "-CA", f(`${ca}.pem`), "-CAkey", f(`${ca}.key`), "-CAcreateserial",
    "-days", "2", "-extfile", f(`${name}.ext`), "-out", f(`${name}.pem`),
  ]);
  return { cert: await pem(f(`${name}.pem`)), key: await pem(f(`${name}.key`)) };
}

/** Another certificate from the CAs `makeTestCerts` made (a renewed server certificate, a client). */
export function issueCert(certs: TestCerts, name: string, options: IssueOptions): Promise<{ cert: Pem; key: Pem }> {
  return issue(certs.dir, name, options);
}

/** A server certificate for 127.0.0.1 and localhost, signed by the test CA: what a renewal brings. */
export function issueServerCert(certs: TestCerts, name: string): Promise<{ cert: Pem; key: Pem }> {
  return issue(certs.dir, name, { cn: "localhost", extensions: SERVER_EXTENSIONS });
}

export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-certs-"));
  const f = (name: string) => path.join(dir, name);
  const ca = async (name: string, cn: string) =>
    run("openssl", ["req", "-x509", ...EC, "-days", "2", "-subj", `/CN=${cn}`, "-keyout", f(`${name}.key`), "-out", f(`${name}.pem`)]);
  await ca("ca", "Flowgate test CA");
  await ca("other-ca", "Some other CA");
  const server = await issue(dir, "server", { cn: "localhost", extensions: SERVER_EXTENSIONS });
  const client = await issue(dir, "client", { cn: "flowgate-test-client", extensions: CLIENT_EXTENSIONS });
  const otherClient = await issue(dir, "other-client", { cn: "flowgate-test-client", extensions: CLIENT_EXTENSIONS, by: "other-ca" });
  return {
    dir,
    ca: await pem(f("ca.pem")),
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCa: await pem(f("other-ca.pem")),
    otherClientCert: otherClient.cert,
    otherClientKey: otherClient.key,
  };
}
