// Workflow configurations (versioned JSON documents in the SQL database) and the config maps (forms) an
// application defines.
export { ConfigMaps } from "./config-maps.js";
export {
  CONFIGS_ERROR_TABLE,
  ConfigMapNotFoundError,
  ConfigNotFoundError,
  ConfigVersionMismatchError,
  InvalidConfigRequestError,
} from "./errors.js";
export { mergePatch } from "./merge-patch.js";
export { ConfigStore } from "./store.js";
export type { ConfigPage, ConfigWrite, StoredConfig } from "./store.js";
