export { bytesEqual, concatBytes } from "./bytes.js";
export {
  ConfigError,
  type ConfigOverrides,
  deepFreeze,
  formatIssuePath,
  formatIssues,
  headerNameSchema,
  loadConfig,
  type ServerConfig,
  serverConfigSchema,
} from "./config.js";
export { type ConnectionLimits, defaultConnectionLimits } from "./connection-limits.js";
export { type DecodeError, type DecodeResult, decodeBody } from "./decode-body.js";
export type { Header, HeaderInput, HeaderMap } from "./headers.js";
export { createHeaderMap, toHeaderList } from "./headers.js";
export { createLogger, type LogFormat, type Logger, type LogLevel } from "./logger.js";
export { boundedLabel, createRegistry } from "./metrics.js";
export type * from "./processor.js";
export { runService, serverOptionsFrom } from "./run.js";
export { defaultServerOptions, type RunningService, type ServerOptions, startService } from "./server.js";
export type * from "./service.js";
export { defineServiceModule } from "./service.js";
export type { TlsOptions } from "./tls.js";
export { contextFromHeaders, startTracing, type Tracing, traceOutbound, tracingRequested } from "./tracing.js";
