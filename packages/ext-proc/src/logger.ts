import { type Logger, pino } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** `json`: pino's own lines; `gcp`: what Cloud Logging (GKE's agent) parses as structured entries. */
export type LogFormat = "json" | "gcp";

/** pino level -> Cloud Logging LogSeverity (google.logging.type.LogSeverity names). */
const gcpSeverity: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

/**
 * The root logger: JSON lines on stdout. Credentials are redacted wherever a
 * header record is logged; services log prompts only as length + hash.
 * With `format: "gcp"` each line carries `severity` (Cloud Logging's names), an RFC 3339
 * `time` and the text under `message`, so Cloud Logging levels and orders every line.
 */
export function createLogger(options: { level?: LogLevel; service?: string; format?: LogFormat } = {}): Logger {
  const gcp = options.format === "gcp";
  return pino({
    level: options.level ?? "info",
    base: options.service ? { service: options.service } : {},
    redact: {
      paths: ["headers.authorization", "headers['x-api-key']", "headers.cookie", "*.headers.authorization"],
      censor: "[REDACTED]",
    },
    ...(gcp
      ? {
          messageKey: "message",
          timestamp: pino.stdTimeFunctions.isoTime,
          formatters: { level: (label: string) => ({ severity: gcpSeverity[label] ?? "DEFAULT" }) },
        }
      : {}),
  });
}

export type { Logger };
