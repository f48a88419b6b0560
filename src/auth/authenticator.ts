// Who is calling, and may they: credentials from the request's headers (an API key or a JWT, both as
// `Authorization: Bearer <credential>`; an API key also as `x-api-key`), checked against the access the call
// needs (a Dapr sidecar's dapr-api-token counts as an API key), or else the client certificate the TLS
// connection was opened with. One object, used by the Connect interceptor (every RPC on every protocol, REST
// included) and by the Fastify hook of the routes that are not RPCs, so both refuse the same way.
import { describeCertificate, type ClientCertificate, type ClientCertificates } from "./certificates.js";
import { type ApiKeys } from "./keys.js";
import { looksLikeJwt, type JwtVerifier } from "./jwt.js";
import type { Access } from "./access.js";
import { PermissionDeniedError, UnauthenticatedError } from "./errors.js";

/** An authenticated caller: how it proved it, its name (in logs and on the workflows it starts), its scopes. */
export interface Caller {
  /** "key:billing", "jwt:alice@example.com", "cert:billing". */
  readonly id: string;
  readonly scopes: ReadonlySet<string>;
}

/** The caller of a server with authentication off: everything is allowed, and nothing is recorded. */
export const ANONYMOUS: Caller = Object.freeze({ id: "anonymous", scopes: new Set(["*"]) });

/** Request headers as Connect (Headers) or Node (an object) carries them. */
export type HeaderSource = Headers | Readonly<Record<string, string | string[] | undefined>>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface AuthenticatorOptions {
  readonly apiKeys?: ApiKeys | undefined;
  readonly jwt?: JwtVerifier | undefined;
  /** The subjects of client certificates and their scopes; set only when TLS asks clients for a certificate. */
  readonly clientCertificates?: ClientCertificates | undefined;
}

const HOW_TO_AUTHENTICATE = 'send "Authorization: Bearer <API key or token>"';
const OR_A_CERTIFICATE = ", or connect over TLS with a client certificate";

export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions = {}) {}

  /** Off unless a credential source is configured; every call is then the anonymous caller's. */
  get enabled(): boolean {
    return this.options.apiKeys !== undefined || this.options.jwt !== undefined || this.options.clientCertificates !== undefined;
  }

  /** What the server accepts, for its start-up log. */
  describe(): string {
    const { apiKeys, jwt, clientCertificates } = this.options;
    const kinds = [
      apiKeys && `API keys (${apiKeys.entries.length})`,
      jwt && "JWT bearer tokens",
      clientCertificates && `client certificates (${clientCertificates.entries.length} subjects)`,
    ];
    return kinds.filter(Boolean).join(" and ") || "nothing (authentication is off)";
  }

  /**
   * The caller the request's credentials prove: those in its headers when it sends any, else the client
   * certificate its TLS connection presented (`certificate`; it comes from the handshake, never from a
   * header, so no client can forge it). A credential in the headers wins because it is the more specific:
   * a service connected with its own certificate may call on behalf of a user with the user's token; and a
   * bad one is refused rather than passed over for the certificate. Throws UnauthenticatedError when the
   * credentials are missing or prove nothing, and KeySetUnavailableError when a token's keys cannot be fetched.
   */
  async authenticate(headers: HeaderSource, certificate?: ClientCertificate): Promise<Caller> {
    if (!this.enabled) return ANONYMOUS;
    const { apiKeys, jwt, clientCertificates } = this.options;
    const credential = credentialOf(headers, clientCertificates !== undefined);
    if (credential === undefined) {
      if (clientCertificates !== undefined && certificate !== undefined) return callerOfCertificate(clientCertificates, certificate);
      throw new UnauthenticatedError(`missing credentials: ${HOW_TO_AUTHENTICATE}${clientCertificates === undefined ? "" : OR_A_CERTIFICATE}`);
    }
    if (jwt !== undefined && looksLikeJwt(credential)) {
      const token = await jwt.verify(credential);
      return { id: `jwt:${token.subject}`, scopes: new Set(token.scopes) };
    }
    const key = apiKeys?.find(credential);
    if (key === undefined) {
      if (apiKeys !== undefined) throw new UnauthenticatedError("the API key is not valid");
      if (jwt !== undefined) throw new UnauthenticatedError(`the credential is not a JWT, and this server accepts only tokens${clientCertificates === undefined ? "" : " and client certificates"}`);
      throw new UnauthenticatedError("this server accepts neither API keys nor tokens: connect over TLS with a client certificate, and send no Authorization header");
    }
    return { id: `key:${key.name}`, scopes: new Set(key.scopes) };
  }

  /** Throws PermissionDeniedError, naming the scope, when `caller` may not make a call that needs `access`. */
  authorize(caller: Caller, access: Access, what: string): void {
    if (access.kind !== "scope" || caller.scopes.has("*") || caller.scopes.has(access.scope)) return;
    const has = caller.scopes.size === 0 ? "no scopes" : `only ${[...caller.scopes].sort().join(", ")}`;
    throw new PermissionDeniedError(`${what} needs the scope "${access.scope}"; ${caller.id} has ${has}`);
  }
}

/** A verified certificate's caller, by the entry its subject is listed in. */
function callerOfCertificate(clients: ClientCertificates, certificate: ClientCertificate): Caller {
  if (!certificate.verified) {
    throw new UnauthenticatedError(`the client certificate ${describeCertificate(certificate)} is not trusted: ${whyNotVerified(certificate.verifyError)}`);
  }
  const entry = clients.find(certificate);
  if (entry === undefined) {
    throw new UnauthenticatedError(`the client certificate ${describeCertificate(certificate)} is verified, but no client with its subject is known here`);
  }
  return { id: `cert:${entry.name}`, scopes: new Set(entry.scopes) };
}

/** OpenSSL's verification error, in words, with its code for a search. */
function whyNotVerified(code: string | undefined): string {
  switch (code) {
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
      return `it is not signed by a CA this server accepts client certificates from (${code})`;
    case "CERT_HAS_EXPIRED":
      return `it has expired (${code})`;
    case "CERT_NOT_YET_VALID":
      return `it is not valid yet (${code})`;
    default:
      return `its verification failed (${code ?? "no reason given"})`;
  }
}

function credentialOf(headers: HeaderSource, certificates: boolean): string | undefined {
  const authorization = header(headers, "authorization")?.trim();
  if (authorization !== undefined && authorization !== "") {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (match === null) {
      throw new UnauthenticatedError(`the Authorization header is not "Bearer <credential>": ${HOW_TO_AUTHENTICATE}${certificates ? OR_A_CERTIFICATE : ""}`);
    }
    return match[1];
  }
  // x-api-key, as API gateways send it; dapr-api-token, as a Dapr sidecar sends its APP_API_TOKEN to the app
  // (on /dapr/subscribe and every event it delivers), so a Dapr deployment needs only a key for its token.
  for (const name of ["x-api-key", "dapr-api-token"]) {
    const apiKey = header(headers, name)?.trim();
    if (apiKey !== undefined && apiKey !== "") return apiKey;
  }
  return undefined;
}
