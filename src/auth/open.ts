// The Authenticator the configuration asks for: API keys from their file, tokens from a JWKS URL or file,
// client certificates' subjects from theirs.
// Files are read and checked here, before anything starts, so a bad one fails start-up naming its variable.
import type { Config } from "../config.js";
import { Authenticator } from "./authenticator.js";
import { loadClientCertificates } from "./certificates.js";
import { JwtVerifier } from "./jwt.js";
import { loadApiKeys } from "./keys.js";

/** The settings this reads (src/config.ts documents each). */
export type AuthConfig = Pick<Config, "apiKeysFile" | "jwtJwksUrl" | "jwtKeysFile" | "jwtIssuer" | "jwtAudience" | "jwtClockSkewSeconds" | "tlsClientsFile">;

/** `known`: the scopes the served contract declares, which a key may be granted. */
export async function openAuthenticator(config: AuthConfig, known: readonly string[]): Promise<Authenticator> {
  const apiKeys = config.apiKeysFile === undefined ? undefined : await loadApiKeys(config.apiKeysFile, known);
  const jwt =
    config.jwtJwksUrl === undefined && config.jwtKeysFile === undefined
      ? undefined
      : await JwtVerifier.create({
          jwksUrl: config.jwtJwksUrl,
          keysFile: config.jwtKeysFile,
          issuer: config.jwtIssuer,
          audience: config.jwtAudience,
          clockSkewSeconds: config.jwtClockSkewSeconds,
        });
  const clientCertificates = config.tlsClientsFile === undefined ? undefined : await loadClientCertificates(config.tlsClientsFile, known);
  return new Authenticator({ apiKeys, jwt, clientCertificates });
}
