// Who is calling, and may they: credentials from the request's headers (an API key or a JWT, both as
// `Authorization: Bearer <credential>`; an API key also as `x-api-key`), checked against the access the call
// needs (a Dapr sidecar's dapr-api-token counts as an API key). One object, used by the Connect interceptor (every RPC on every protocol, REST included) and by the
// Fastify hook of the routes that are not RPCs, so both refuse the same way.
import { type ApiKeys } from "./keys.js";
import { looksLikeJwt, type JwtVerifier } from "./jwt.js";
import type { Access } from "./access.js";
import { PermissionDeniedError, UnauthenticatedError } from "./errors.js";

/** An authenticated caller: how it proved it, its name (in logs and on the workflows it starts), its scopes. */
export interface Caller {
  /** "key:billing", "jwt:alice@example.com". */
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
}

const HOW_TO_AUTHENTICATE = 'send "Authorization: Bearer <API key or token>"';

export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions = {}) {}

  /** Off unless a credential source is configured; every call is then the anonymous caller's. */
  get enabled(): boolean {
    return this.options.apiKeys !== undefined || this.options.jwt !== undefined;
  }

  /** What the server accepts, for its start-up log. */
  describe(): string {
    const kinds = [this.options.apiKeys && `API keys (${this.options.apiKeys.entries.length})`, this.options.jwt && "JWT bearer tokens"];
    return kinds.filter(Boolean).join(" and ") || "nothing (authentication is off)";
  }

  /**
   * The caller the request's credentials prove. Throws UnauthenticatedError when they are missing or prove
   * nothing, and KeySetUnavailableError when a token's keys cannot be fetched.
   */
  async authenticate(headers: HeaderSource): Promise<Caller> {
    if (!this.enabled) return ANONYMOUS;
    const credential = credentialOf(headers);
    if (credential === undefined) throw new UnauthenticatedError(`missing credentials: ${HOW_TO_AUTHENTICATE}`);
    const { apiKeys, jwt } = this.options;
    if (jwt !== undefined && looksLikeJwt(credential)) {
      const token = await jwt.verify(credential);
      return { id: `jwt:${token.subject}`, scopes: new Set(token.scopes) };
    }
    const key = apiKeys?.find(credential);
    if (key === undefined) {
      throw new UnauthenticatedError(apiKeys === undefined ? "the credential is not a JWT, and this server accepts only tokens" : "the API key is not valid");
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

function credentialOf(headers: HeaderSource): string | undefined {
  const authorization = header(headers, "authorization")?.trim();
  if (authorization !== undefined && authorization !== "") {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (match === null) throw new UnauthenticatedError(`the Authorization header is not "Bearer <credential>": ${HOW_TO_AUTHENTICATE}`);
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
