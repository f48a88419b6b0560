// JWT bearer tokens (jose), verified against a JWKS URL (fetched, cached and refreshed by jose when a token
// names a key it has not seen) or a local key set file, with the issuer, audience and clock skew the operator
// sets. Scopes come from the OAuth 2.0 claims: "scope" (space-separated, RFC 8693 / RFC 9068) or "scp" (a
// list or a string, as Azure AD and Okta write it).
import { readFile } from "node:fs/promises";
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { AuthConfigError, KeySetUnavailableError, UnauthenticatedError } from "./errors.js";

export interface JwtSettings {
  /** Where the signing keys are published (an identity provider's jwks_uri). */
  readonly jwksUrl?: string | undefined;
  /** A JWKS JSON file ({"keys": [...]}), for keys that are not published. */
  readonly keysFile?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /** Tolerated clock difference for exp and nbf, in seconds. */
  readonly clockSkewSeconds: number;
}

/** What a verified token says about its caller. */
export interface TokenCaller {
  readonly subject: string;
  readonly scopes: readonly string[];
}

/** A string shaped as a compact JWS (three base64url parts), as opposed to an opaque API key. */
export function looksLikeJwt(credential: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential);
}

export class JwtVerifier {
  private constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly settings: JwtSettings,
    private readonly keysFrom: string,
  ) {}

  /** Reads the local key set now (failing start-up naming the file); a JWKS URL is fetched on first use. */
  static async create(settings: JwtSettings): Promise<JwtVerifier> {
    if (settings.jwksUrl !== undefined) {
      const url = new URL(settings.jwksUrl);
      return new JwtVerifier(createRemoteJWKSet(url, { timeoutDuration: 5000, cooldownDuration: 30_000 }), settings, url.href);
    }
    if (settings.keysFile === undefined) throw new AuthConfigError("FLOWGATE_JWT_JWKS_URL or FLOWGATE_JWT_KEYS_FILE is needed to verify tokens");
    let jwks: JSONWebKeySet;
    try {
      jwks = JSON.parse(await readFile(settings.keysFile, "utf8")) as JSONWebKeySet;
    } catch (err) {
      throw new AuthConfigError(`FLOWGATE_JWT_KEYS_FILE: cannot read a JSON key set from "${settings.keysFile}": ${(err as Error).message}`);
    }
    if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) {
      throw new AuthConfigError(`FLOWGATE_JWT_KEYS_FILE "${settings.keysFile}": expected a JWKS, {"keys": [ ...public keys... ]}`);
    }
    return new JwtVerifier(createLocalJWKSet(jwks), settings, settings.keysFile);
  }

  /**
   * The token's caller. Throws UnauthenticatedError saying what is wrong with the token (expired, wrong
   * audience, bad signature), and KeySetUnavailableError when the key set cannot be fetched.
   */
  async verify(token: string): Promise<TokenCaller> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: this.settings.clockSkewSeconds,
      }));
    } catch (err) {
      throw this.refusal(err);
    }
    const subject = [payload.sub, payload.client_id, payload.azp].find((v): v is string => typeof v === "string" && v !== "");
    if (subject === undefined) throw new UnauthenticatedError('the token names no caller: it needs a "sub" (or "client_id") claim');
    return { subject, scopes: scopesOf(payload) };
  }

  private refusal(err: unknown): Error {
    if (err instanceof errors.JWTExpired) {
      const exp = typeof err.payload.exp === "number" ? ` at ${new Date(err.payload.exp * 1000).toISOString()}` : "";
      return new UnauthenticatedError(`the token expired${exp}; get a new one`);
    }
    if (err instanceof errors.JWTClaimValidationFailed) return new UnauthenticatedError(`the token is not valid here: ${err.message} (claim "${err.claim}")`);
    if (err instanceof errors.JWKSTimeout) return new KeySetUnavailableError(`the token's keys could not be fetched from ${this.keysFrom}: no answer in 5 s`);
    if (err instanceof errors.JWKSNoMatchingKey) return new UnauthenticatedError("the token is signed with a key this server does not know");
    // A JWKS URL that answers, but not with a key set, is as out of reach as one that does not answer.
    if (err instanceof errors.JWKSInvalid || (err instanceof errors.JOSEError && err.message.startsWith("Expected 200 OK"))) {
      return new KeySetUnavailableError(`the token's keys could not be fetched from ${this.keysFrom}: ${err.message}`);
    }
    if (err instanceof errors.JOSEError) return new UnauthenticatedError(`the token is not valid: ${err.message}`);
    // fetch's own failure (connection refused, DNS): the key set is out of reach, not the token at fault.
    return new KeySetUnavailableError(`the token's keys could not be fetched from ${this.keysFrom}: ${(err as Error).message}`);
  }
}

function scopesOf(payload: JWTPayload): string[] {
  const words = (v: unknown): string[] => (typeof v === "string" ? v.split(" ").filter((s) => s !== "") : Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : []);
  return [...words(payload.scope), ...words(payload.scp)];
}
