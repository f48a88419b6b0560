// The TLS side of the one port, beyond the handshake itself (listener.ts): the certificate files, polled and
// served anew when they change, and the client certificate each connection presented, for authentication.
//
// Certificates are renewed while the server runs (cert-manager renews a certificate a third of its life
// before it expires) and arrive by a swap of a symlink, Kubernetes' atomic update of a mounted Secret. fs.watch
// follows the inode it was given and misses that swap, so the files are read again on a timer and compared
// with what is served; a pair that cannot be loaded (a key that does not match, a half-written file) is
// logged and the certificate served so far stays, until a good pair is written.
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createSecureContext, type TLSSocket } from "node:tls";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { ClientCertificate } from "../auth/index.js";
import type { ListenerTls } from "./listener.js";

/** Where the certificate, its key and the client CA are read from. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile?: string | undefined;
}

/** What the server serves over TLS, and where it reads it again from. */
export interface ServerTls extends ListenerTls {
  /** The files the PEMs came from, read again every `intervalMs` and served when they change; absent: served as given until a restart. */
  readonly reload?: { readonly files: TlsFiles; readonly intervalMs: number } | undefined;
}

/** A TLS file that cannot be used: `which` names the file at fault, or "pair" for a key that is not the certificate's. */
export class TlsFilesError extends Error {
  override name = "TlsFilesError";
  constructor(
    message: string,
    readonly which: keyof TlsFiles | "pair",
  ) {
    super(message);
  }
}

/** Reads the files and checks that they make a certificate, its key and a CA. Throws TlsFilesError. */
export async function readTlsFiles(files: TlsFiles): Promise<ListenerTls> {
  const material = await readTlsBytes(files);
  checkTlsMaterial(files, material);
  return material;
}

async function readTlsBytes(files: TlsFiles): Promise<ListenerTls> {
  const read = async (which: keyof TlsFiles, file: string) => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new TlsFilesError(`cannot read "${file}": ${(err as Error).message}`, which);
    }
  };
  const [cert, key, clientCa] = await Promise.all([
    read("certFile", files.certFile),
    read("keyFile", files.keyFile),
    files.clientCaFile === undefined ? undefined : read("clientCaFile", files.clientCaFile),
  ]);
  return { cert, key, clientCa };
}

/** Throws TlsFilesError, naming the file at fault, when `material` cannot be served. */
function checkTlsMaterial(files: TlsFiles, material: ListenerTls): void {
  const check = (which: keyof TlsFiles | "pair", what: string, fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      throw new TlsFilesError(`${what}: ${(err as Error).message}`, which);
    }
  };
  check("certFile", `"${files.certFile}" is not a PEM certificate`, () => new X509Certificate(material.cert));
  check("keyFile", `"${files.keyFile}" is not a PEM private key`, () => createSecureContext({ key: material.key }));
  check("pair", `"${files.keyFile}" is not the key of the certificate in "${files.certFile}"`, () => createSecureContext({ cert: material.cert, key: material.key }));
  if (material.clientCa !== undefined) {
    check("clientCaFile", `"${files.clientCaFile}" is not a PEM CA certificate`, () => new X509Certificate(material.clientCa!));
  }
}

/** The certificate's serial, expiry and SHA-256 fingerprint, for logs. */
function certificateFacts(pem: string | Buffer): { subject: string; serial: string; validTo: string; fingerprint256: string } {
  const cert = new X509Certificate(pem);
  return { subject: cert.subject, serial: cert.serialNumber, validTo: cert.validTo, fingerprint256: cert.fingerprint256 };
}

const same = (a: string | Buffer | undefined, b: string | Buffer | undefined) =>
  a === undefined || b === undefined ? a === b : Buffer.from(a).equals(Buffer.from(b));

/**
 * Reads `tls.reload.files` again every `tls.reload.intervalMs` and serves them (`serve`) when they have changed and
 * make a usable pair; otherwise logs why, once per problem, and the certificate served so far stays. The
 * timer does not keep the process alive, and stops when the app closes.
 */
export function reloadTlsOnChange(app: FastifyInstance, tls: ServerTls, log: FastifyBaseLogger, serve: (material: ListenerTls) => void): void {
  if (tls.reload === undefined) return;
  const { files, intervalMs } = tls.reload;
  let served: ListenerTls = tls;
  let lastProblem: string | undefined;
  let reading = false;
  const check = async () => {
    if (reading) return;
    reading = true;
    try {
      // Checked only once it differs from what is served: most reads find nothing new.
      const material = await readTlsBytes(files);
      if (same(material.cert, served.cert) && same(material.key, served.key) && same(material.clientCa, served.clientCa)) {
        lastProblem = undefined;
        return;
      }
      checkTlsMaterial(files, material);
      serve(material);
      const before = certificateFacts(served.cert);
      served = material;
      lastProblem = undefined;
      log.info(
        { certFile: files.certFile, ...certificateFacts(material.cert), replaced: before.serial },
        "TLS certificate reloaded: new connections get it, open ones keep theirs",
      );
    } catch (err) {
      const problem = (err as Error).message;
      if (problem === lastProblem) return;
      lastProblem = problem;
      const file = err instanceof TlsFilesError && err.which !== "pair" ? files[err.which] : files.certFile;
      const { serial, validTo } = certificateFacts(served.cert);
      log.warn({ file, keyFile: files.keyFile, err }, `TLS certificate not reloaded: ${problem}; still serving the one before (serial ${serial}, valid until ${validTo})`);
    } finally {
      reading = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  app.addHook("onClose", (_app, done) => {
    clearInterval(timer);
    done();
  });
}

/** Where a connection's client certificate is kept: a symbol, so HTTP/2's proxy of the socket passes it on. */
const kClientCertificate = Symbol("flowgate.clientCertificate");

/** Notes the certificate a client presented in its handshake (verified or not), once per connection. */
export function noteClientCertificate(socket: TLSSocket): void {
  const peer = socket.getPeerCertificate();
  // An empty object when the client presented none.
  if (peer === null || typeof peer !== "object" || peer.raw === undefined) return;
  // A subject with two common names gives a list, whatever the type says.
  const cn: unknown = peer.subject?.CN;
  const commonName = Array.isArray(cn) ? String(cn[0]) : typeof cn === "string" ? cn : undefined;
  const error = socket.authorizationError as unknown;
  const certificate: ClientCertificate = {
    verified: socket.authorized,
    // Node sets OpenSSL's code here ("CERT_HAS_EXPIRED"), though its type says Error.
    verifyError: socket.authorized ? undefined : typeof error === "string" ? error : ((error as { code?: string } | undefined)?.code ?? String(error)),
    commonName,
    altNames: altNamesOf(peer.subjectaltname),
    serial: peer.serialNumber,
  };
  (socket as unknown as Record<symbol, ClientCertificate>)[kClientCertificate] = certificate;
}

/**
 * The client certificate of the connection `socket` belongs to (a request's `req.raw.socket`, on either HTTP
 * version), or undefined when it presented none or is not TLS.
 */
export function clientCertificateOf(socket: unknown): ClientCertificate | undefined {
  if (socket === null || typeof socket !== "object") return undefined;
  return (socket as Record<symbol, ClientCertificate | undefined>)[kClientCertificate];
}

/**
 * The values of Node's subjectaltname ("DNS:a.example, URI:spiffe://x, IP Address:10.0.0.1"); a value with
 * a comma or quote in it comes JSON-quoted (since Node 17.3.1, CVE-2021-44532).
 */
function altNamesOf(text: string | undefined): string[] {
  if (text === undefined || text === "") return [];
  const names: string[] = [];
  for (const match of text.matchAll(/(?:^|, )[A-Za-z ]+:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const value = match[1]!;
    names.push(value.startsWith('"') ? (JSON.parse(value) as string) : value);
  }
  return names;
}
