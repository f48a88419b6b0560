// Client certificates (mTLS): a caller proves who it is in the TLS handshake, with a certificate the client CA
// (FLOWGATE_TLS_CLIENT_CA_FILE) signed. Verification is OpenSSL's, during the handshake; what it proves is
// the certificate's subject, and a file grants scopes to subjects the way the API keys file grants them to
// keys: a caller's name and its scopes, per entry, checked at start-up. A CA proves identity, not
// permission: a certificate it signed whose subject no entry lists authenticates nobody.
import { AuthConfigError } from "./errors.js";
import { checkCallerName, checkScopes, readGrantEntries } from "./grants.js";

/** What the TLS handshake says about the certificate a client presented. */
export interface ClientCertificate {
  /** Signed by the client CA, and valid now: OpenSSL verified it during the handshake. */
  readonly verified: boolean;
  /** Why it was not verified, as OpenSSL names it ("UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_HAS_EXPIRED"). */
  readonly verifyError: string | undefined;
  /** The subject's common name (CN), if it has one. */
  readonly commonName: string | undefined;
  /** The values of its subject alternative names: DNS names, URIs (SPIFFE ids), email addresses, IP addresses. */
  readonly altNames: readonly string[];
  /** The certificate's serial number, hex, for messages. */
  readonly serial: string;
}

export interface ClientCertificateEntry {
  /** The caller's name in logs and on the runs it starts ("cert:<name>"). */
  readonly name: string;
  /** The certificate's common name, or one of its subject alternative names, that this entry grants scopes to. */
  readonly subject: string;
  readonly scopes: readonly string[];
}

/** How a certificate is named in a message: its subject, as far as it has one. */
export function describeCertificate(cert: ClientCertificate): string {
  const names = [cert.commonName === undefined ? undefined : `CN=${cert.commonName}`, ...cert.altNames].filter(Boolean);
  return `${names.length === 0 ? "with no subject name" : `"${names.join(", ")}"`} (serial ${cert.serial})`;
}

export class ClientCertificates {
  constructor(readonly entries: readonly ClientCertificateEntry[]) {}

  /** The first entry, in the file's order, whose subject is the certificate's common name or one of its alternative names. */
  find(cert: ClientCertificate): ClientCertificateEntry | undefined {
    const names = new Set([...(cert.commonName === undefined ? [] : [cert.commonName]), ...cert.altNames]);
    return this.entries.find((entry) => names.has(entry.subject));
  }
}

/**
 * Reads a client certificates file (YAML or JSON), the same shape as the API keys file:
 *
 *   clients:
 *     - name: billing                       # the caller's name in logs and on the workflows it starts
 *       subject: billing.payments.svc        # the certificate's CN or one of its SANs; `name` when absent
 *       scopes: [workflows.read, workflows.write]
 *
 * Only `clients:` is read, so it may be the API keys file itself. Throws AuthConfigError naming the file and
 * the entry for anything it cannot use, an unknown scope included (`known`: the contract's scopes).
 */
export async function loadClientCertificates(file: string, known: readonly string[]): Promise<ClientCertificates> {
  const names = new Set<string>();
  const subjects = new Set<string>();
  const entries = (await readGrantEntries(file, "FLOWGATE_TLS_CLIENTS_FILE", "clients", "name, subject, scopes")).map(({ at, entry }): ClientCertificateEntry => {
    const { name: rawName, subject = rawName, scopes } = entry;
    const name = checkCallerName(at, rawName, names);
    if (typeof subject !== "string" || subject.trim() === "" || subject.length > 1024) {
      throw new AuthConfigError(`${at}.subject (${name}): expected the certificate's common name or one of its subject alternative names`);
    }
    // Two entries for one subject: the second could never match, and which was meant is anyone's guess.
    if (subjects.has(subject)) throw new AuthConfigError(`${at}.subject (${name}): "${subject}" is listed twice`);
    subjects.add(subject);
    return { name, subject, scopes: checkScopes(at, name, scopes, known) };
  });
  return new ClientCertificates(entries);
}
