import { Registry } from "prom-client";
import { createLogger, type LogLevel } from "../logger.js";
import type { ServiceRuntime } from "../service.js";

/** A ServiceRuntime for tests: a silent logger (or `level`), a fresh registry, a live signal. */
export function createTestRuntime(options: { level?: LogLevel; configDir?: string } = {}): ServiceRuntime {
  return {
    log: createLogger({ level: options.level ?? "silent" }),
    metrics: new Registry(),
    signal: new AbortController().signal,
    configDir: options.configDir ?? process.cwd(),
  };
}
