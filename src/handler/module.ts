// FLOWGATE_HANDLER: the handler as a module of the application's own (.js, or .ts through tsx), its hooks
// exported by name (testAuth, fetchMetadata, preflightCheck) or as the default export's methods.
import { pathToFileURL } from "node:url";
import { tsImport } from "tsx/esm/api";
import type { AppHandler } from "./handler.js";
import { HOOK_NAMES } from "./errors.js";

export class HandlerModuleError extends Error {
  override name = "HandlerModuleError";
}

export async function loadHandlerModule(file: string): Promise<AppHandler> {
  let module: Record<string, unknown>;
  try {
    module = (/\.[cm]?ts$/.test(file) ? await tsImport(pathToFileURL(file).href, import.meta.url) : await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new HandlerModuleError(`FLOWGATE_HANDLER: cannot load "${file}": ${(err as Error).message}`);
  }
  const source = (typeof module.default === "object" && module.default !== null ? module.default : module) as Record<string, unknown>;
  const hooks = HOOK_NAMES.filter((name) => typeof source[name] === "function");
  if (hooks.length === 0) {
    throw new HandlerModuleError(`FLOWGATE_HANDLER: "${file}" exports none of ${HOOK_NAMES.join(", ")} (by name, or on its default export)`);
  }
  return source;
}
