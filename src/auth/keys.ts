// API keys: a file lists each key's name, the SHA-256 of the key (never the key itself) and its scopes. A
// presented key is hashed and compared with every stored hash in constant time, so neither a match's
// position nor a near miss shows in the time taken. SHA-256 and not a slow password hash: keys are random
// and long (generate them with `openssl rand -base64 32`), so there is nothing to guess a dictionary from.
import { createHash, timingSafeEqual } from "node:crypto";
import { AuthConfigError } from "./errors.js";
import { checkCallerName, checkScopes, readGrantEntries } from "./grants.js";

export interface ApiKeyEntry {
  readonly name: string;
  readonly hash: Buffer;
  readonly scopes: readonly string[];
}

/** The SHA-256 of a key, hex: what the keys file stores. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export class ApiKeys {
  constructor(readonly entries: readonly ApiKeyEntry[]) {}

  /** The entry whose hash is the key's, or undefined. Every entry is compared, whichever matches. */
  find(key: string): ApiKeyEntry | undefined {
    const hash = createHash("sha256").update(key, "utf8").digest();
    let found: ApiKeyEntry | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(hash, entry.hash) && found === undefined) found = entry;
    }
    return found;
  }
}

/**
 * Reads a keys file (YAML or JSON):
 *
 *   keys:
 *     - name: billing          # the caller's name in logs and on the workflows it starts
 *       sha256: 9f86d08…        # printf %s "$KEY" | sha256sum
 *       scopes: [workflows.read, workflows.write]
 *
 * Throws AuthConfigError naming the file and the entry for anything it cannot use, an unknown scope included
 * (`known`: the scopes the contract declares; "*" grants them all).
 */
export async function loadApiKeys(file: string, known: readonly string[]): Promise<ApiKeys> {
  const names = new Set<string>();
  const hashes = new Set<string>();
  const entries = (await readGrantEntries(file, "FLOWGATE_API_KEYS_FILE", "keys", "name, sha256, scopes")).map(({ at, entry }): ApiKeyEntry => {
    const { name: rawName, sha256, scopes } = entry;
    const name = checkCallerName(at, rawName, names);
    if (typeof sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
      throw new AuthConfigError(`${at}.sha256 (${name}): expected the key's SHA-256 as 64 hex digits (printf %s "$KEY" | sha256sum)`);
    }
    if (hashes.has(sha256.toLowerCase())) throw new AuthConfigError(`${at}.sha256 (${name}): the same key is listed twice`);
    hashes.add(sha256.toLowerCase());
    return { name, hash: Buffer.from(sha256, "hex"), scopes: checkScopes(at, name, scopes, known) };
  });
  return new ApiKeys(entries);
}
