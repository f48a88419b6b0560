import { pino, type Logger } from "pino";
import type { Config } from "../config.js";

/** Header and body fields whose values never reach a log line. */
const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** The process logger: pino JSON lines, or pino-pretty when a person is at the terminal. */
export function createLogger(config: Pick<Config, "logLevel" | "logPretty">, name = "flowgate"): Logger {
  return pino({
    name,
    level: config.logLevel,
    redact: { paths: REDACT, censor: "[redacted]" },
    transport: config.logPretty
      ? { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } }
      : undefined,
  });
}
