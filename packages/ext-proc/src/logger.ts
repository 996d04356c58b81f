import { type Logger, pino } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * The root logger: JSON lines on stdout. Credentials are redacted wherever a
 * header record is logged; services log prompts only as length + hash.
 */
export function createLogger(options: { level?: LogLevel; service?: string } = {}): Logger {
  return pino({
    level: options.level ?? "info",
    base: options.service ? { service: options.service } : {},
    redact: {
      paths: ["headers.authorization", "headers['x-api-key']", "headers.cookie", "*.headers.authorization"],
      censor: "[REDACTED]",
    },
  });
}

export type { Logger };
