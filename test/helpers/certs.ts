// Test certificates, made with openssl: a CA, a server certificate it signed (for 127.0.0.1 and localhost),
// a client certificate it signed (mTLS), and an unrelated CA that trusts none of them.
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
  /** A CA that signed nothing here: trusting it alone must fail. */
  readonly otherCa: Pem;
}

async function pem(file: string): Promise<Pem> {
  return { file, pem: await readFile(file) };
}

export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-certs-"));
  const f = (name: string) => path.join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const ca = async (name: string, cn: string) =>
    run("openssl", ["req", "-x509", ...ec, "-days", "2", "-subj", `/CN=${cn}`, "-keyout", f(`${name}.key`), "-out", f(`${name}.pem`)]);
  await ca("ca", "Flowgate test CA");
  await ca("other-ca", "Some other CA");
  const leaf = async (name: string, cn: string, extensions: string) => {
    await run("openssl", ["req", ...ec, "-subj", `/CN=${cn}`, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`)]);
    await writeFile(f(`${name}.ext`), extensions);
    await run("openssl", [
      "x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial",
      "-days", "2", "-extfile", f(`${name}.ext`), "-out", f(`${name}.pem`),
    ]);
  };
  await leaf("server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await leaf("client", "flowgate-test-client", "extendedKeyUsage=clientAuth\n");
  return {
    dir,
    ca: await pem(f("ca.pem")),
    serverCert: await pem(f("server.pem")),
    serverKey: await pem(f("server.key")),
    clientCert: await pem(f("client.pem")),
    clientKey: await pem(f("client.key")),
    otherCa: await pem(f("other-ca.pem")),
  };
}
