// The only reader of process.env. Every option has a default, is parsed once, and a bad value fails start-up
// with a message that names the variable. The README's configuration table mirrors `OPTIONS` below.
import path from "node:path";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface Config {
  /** Interface the API listens on. */
  readonly host: string;
  /** Port of the one listener that serves every protocol (0 picks a free port). */
  readonly port: number;
  /** Folder for local state: the embedded Temporal database, cached tools. */
  readonly dataDir: string;
  /** Address of an existing Temporal frontend; undefined means "start the embedded dev server". */
  readonly temporalAddress: string | undefined;
  readonly temporalNamespace: string;
  /** Task queue used when neither the request nor the workflow type names one. */
  readonly taskQueue: string;
  readonly logLevel: LogLevel;
  /** Pretty, human-readable logs instead of JSON lines. */
  readonly logPretty: boolean;
  /** Largest request body accepted on any protocol, in bytes. */
  readonly bodyLimitBytes: number;
  /** Upper bound of RunWorkflow when the call carries no deadline of its own, in milliseconds. */
  readonly runTimeoutMs: number;
  /** Whether `npm start` also starts a worker process with the sample workflows. */
  readonly startWorker: boolean;
  /** Path of the Temporal CLI binary; undefined means "obtain the pinned version into dataDir". */
  readonly temporalCli: string | undefined;
  /** PEM certificate and key files: when set, TLS is served on the same port beside cleartext. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Frontend port of the embedded Temporal dev server. */
  readonly devServerPort: number;
  /** Web UI port of the embedded Temporal dev server; 0 runs it headless. */
  readonly devServerUiPort: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the configuration from an environment (process.env by default). Throws ConfigError. */
export function loadConfig(env: Env = process.env): Config {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const addressVariable = read("FLOWGATE_TEMPORAL_ADDRESS") !== undefined ? "FLOWGATE_TEMPORAL_ADDRESS" : "TEMPORAL_ADDRESS";
  const temporalAddress = read(addressVariable);
  if (temporalAddress !== undefined && !/^(?:[^\s:/[\]]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(temporalAddress)) {
    throw new ConfigError(
      `${addressVariable} must be host:port (such as temporal.internal:7233 or [::1]:7233), got "${temporalAddress}"`,
    );
  }
  const dataDir = path.resolve(read("FLOWGATE_DATA_DIR") ?? ".flowgate");
  const certFile = read("FLOWGATE_TLS_CERT_FILE");
  const keyFile = read("FLOWGATE_TLS_KEY_FILE");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      `FLOWGATE_TLS_CERT_FILE and FLOWGATE_TLS_KEY_FILE go together, but only ${certFile ? "FLOWGATE_TLS_CERT_FILE" : "FLOWGATE_TLS_KEY_FILE"} is set`,
    );
  }
  return Object.freeze({
    host: read("FLOWGATE_HOST") ?? "127.0.0.1",
    port: parsePort("FLOWGATE_PORT", read("FLOWGATE_PORT"), 8000),
    dataDir,
    temporalAddress,
    temporalNamespace: read("FLOWGATE_TEMPORAL_NAMESPACE") ?? read("TEMPORAL_NAMESPACE") ?? "default",
    taskQueue: read("FLOWGATE_TASK_QUEUE") ?? "flowgate",
    logLevel: parseLogLevel(read("FLOWGATE_LOG_LEVEL")),
    logPretty: parseBool("FLOWGATE_LOG_PRETTY", read("FLOWGATE_LOG_PRETTY"), isInteractive(env)),
    bodyLimitBytes: parseInteger("FLOWGATE_BODY_LIMIT", read("FLOWGATE_BODY_LIMIT"), 4 * 1024 * 1024, 1024),
    runTimeoutMs: parseDuration("FLOWGATE_RUN_TIMEOUT", read("FLOWGATE_RUN_TIMEOUT"), 60_000),
    startWorker: parseBool("FLOWGATE_START_WORKER", read("FLOWGATE_START_WORKER"), temporalAddress === undefined),
    temporalCli: read("TEMPORAL_CLI"),
    tls: certFile && keyFile ? { certFile, keyFile } : undefined,
    devServerPort: parsePort("FLOWGATE_TEMPORAL_DEV_PORT", read("FLOWGATE_TEMPORAL_DEV_PORT"), 7233),
    devServerUiPort: parsePort("FLOWGATE_TEMPORAL_UI_PORT", read("FLOWGATE_TEMPORAL_UI_PORT"), 8233),
  });
}

function isInteractive(env: Env): boolean {
  return process.stdout.isTTY === true && env.CI === undefined;
}

function parsePort(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be a port number from 0 to 65535, got "${value}"`);
  }
  return port;
}

function parseInteger(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(`${name} must be a whole number of at least ${min}, got "${value}"`);
  }
  return n;
}

function parseBool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined) return "info";
  const level = value.toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(`FLOWGATE_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
  }
  return level;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "1500ms", "30s", "5m", "1h" (or a bare number of milliseconds) into milliseconds. */
export function parseDuration(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (match === null) {
    throw new ConfigError(`${name} must be a duration such as 30s, 5m or 1500ms, got "${value}"`);
  }
  const ms = Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"]!);
  if (ms <= 0) throw new ConfigError(`${name} must be longer than zero, got "${value}"`);
  return ms;
}
