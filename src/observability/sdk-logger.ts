// The Temporal SDK's own logs (its Rust core's included) as pino lines, marked `sdk: true`.
// From the logger module alone: the worker's index would load the whole worker into the API process.
import { DefaultLogger, type LogLevel } from "@temporalio/worker/lib/logger.js";
import type { Logger } from "pino";

const PINO_LEVEL: Record<LogLevel, "trace" | "debug" | "info" | "warn" | "error"> = {
  TRACE: "trace",
  DEBUG: "debug",
  INFO: "info",
  WARN: "warn",
  ERROR: "error",
};

/** A logger for the SDK's Runtime that writes its warnings and errors through `log`. */
export function sdkLogger(log: Logger | undefined): DefaultLogger {
  return new DefaultLogger("WARN", (entry) => log?.[PINO_LEVEL[entry.level]]({ ...entry.meta, sdk: true }, entry.message));
}
