import { pino, type Logger } from "pino";
import type { Config } from "../config.js";

/** Header and body fields whose values never reach a log line. */
const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/**
 * The process logger: pino JSON lines, or pino-pretty when a person is at the terminal. JSON lines go to
 * stdout asynchronously (pino's sonic-boom with `sync: false`): a request never waits for a write to the
 * terminal or a pipe, and pino flushes what is buffered when the process exits.
 */
export function createLogger(config: Pick<Config, "logLevel" | "logPretty">, name = "flowgate"): Logger {
  const options = { name, level: config.logLevel, redact: { paths: REDACT, censor: "[redacted]" } };
  if (config.logPretty) {
    return pino({ ...options, transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } } });
  }
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
