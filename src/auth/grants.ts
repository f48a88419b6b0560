// What the API keys file and the client certificates file share: YAML or JSON read at start-up, each entry a
// caller's name and the scopes it is granted, checked against the scopes the contract declares. Anything
// wrong is an AuthConfigError that names the variable, the file and the entry.
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { AuthConfigError } from "./errors.js";

/** The document in `file`, parsed. */
/**
 * The entries listed under `list:` in a grants file, each an object (`shape` names its fields for the
 * message), with where each one is (`FLOWGATE_API_KEYS_FILE "keys.yaml": keys[2]`) for the messages of
 * the checks that follow.
 */
export async function readGrantEntries(
  file: string,
  variable: string,
  list: string,
  shape: string,
): Promise<{ at: string; entry: Record<string, unknown> }[]> {
  const doc = await readGrantsFile(file, variable);
  const where = `${variable} "${file}"`;
  const entries = (doc as Record<string, unknown> | null)?.[list];
  if (!Array.isArray(entries)) throw new AuthConfigError(`${where}: expected a list under "${list}:" (${shape})`);
  return entries.map((raw: unknown, i) => {
    const at = `${where}: ${list}[${i}]`;
    if (typeof raw !== "object" || raw === null) throw new AuthConfigError(`${at}: expected {${shape}}`);
    return { at, entry: raw as Record<string, unknown> };
  });
}

async function readGrantsFile(file: string, variable: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new AuthConfigError(`${variable}: cannot read "${file}": ${(err as Error).message}`);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new AuthConfigError(`${variable} "${file}": not YAML or JSON: ${(err as Error).message}`);
  }
}

/** A caller's name, checked to be one (`at`: where the entry is, for the message) and listed once. */
export function checkCallerName(at: string, name: unknown, seen: Set<string>): string {
  if (typeof name !== "string" || !/^[\w.@:-]{1,128}$/.test(name)) {
    throw new AuthConfigError(`${at}.name: expected 1 to 128 letters, digits or . _ - @ :`);
  }
  if (seen.has(name)) throw new AuthConfigError(`${at}.name: "${name}" is listed twice`);
  seen.add(name);
  return name;
}

/** The scopes granted to `name`: a list of the scopes the contract declares (`known`), or "*" for all. */
export function checkScopes(at: string, name: string, scopes: unknown, known: readonly string[]): string[] {
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== "string")) {
    throw new AuthConfigError(`${at}.scopes (${name}): expected a list of scopes (${known.join(", ")}, or "*")`);
  }
  for (const scope of scopes as string[]) {
    if (scope !== "*" && !known.includes(scope)) {
      throw new AuthConfigError(`${at}.scopes (${name}): "${scope}" is not a scope; the contract declares ${known.join(", ")} ("*" grants all)`);
    }
  }
  return scopes as string[];
}
