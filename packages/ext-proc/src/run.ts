import type { Logger } from "pino";
import { ConfigError, type ConfigOverrides, loadConfig, type ServerConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { createRegistry } from "./metrics.js";
import { type RunningService, startService } from "./server.js";
import type { ServiceModule } from "./service.js";
import { startTracing, tracesUrl } from "./tracing.js";

/** Server options from a validated `server:` section. */
export function serverOptionsFrom(server: ServerConfig) {
  return {
    host: server.host,
    port: server.port,
    adminPort: server.adminPort,
    healthPort: server.healthPort,
    maxReceiveMessageBytes: server.maxReceiveMessageBytes,
    http2: server.http2,
    tls: server.tls,
    drainTimeoutMs: server.drainTimeoutMs,
    processorTimeoutMs: server.processorTimeoutMs,
    maxBufferedBodyBytes: server.maxBufferedBodyBytes,
    replyChunkBytes: server.replyChunkBytes,
    streamedHoldBytes: server.streamedHoldBytes,
    failure: server.failure,
    assumedModes: server.assumedModes,
    processTransport: server.processTransport,
  };
}

/**
 * Runs a service as a process: config, logger, metrics, server; SIGTERM/SIGINT drain
 * and exit 0; invalid config exits 1 naming each bad field. Returns the running
 * service (for embedding); the process stays up until a signal.
 */
export async function runService(
  module: ServiceModule,
  flags: ConfigOverrides,
  env: NodeJS.ProcessEnv = process.env,
  /** Lines logged as warnings at start (what a translated flag set accepted without effect). */
  notes: readonly string[] = [],
): Promise<RunningService> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(module.configSchema, flags, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${module.name}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger({ level: config.server.logLevel, service: module.name, format: config.server.logFormat });
  // OpenTelemetry when the standard OTEL_* environment asks for it (OTEL_TRACES_EXPORTER=otlp or an endpoint).
  // server.tracing: false turns it off whatever the environment says (GIE's --tracing=false).
  const tracing = config.server.tracing ? startTracing(module.name, env) : undefined;
  if (tracing) log.info({ endpoint: tracesUrl(env) ?? "default" }, "tracing to OTLP/HTTP");
  for (const note of notes) log.warn({ note }, "flag accepted with a difference");
  installProcessGuards(log);
  const registry = createRegistry();
  const controller = new AbortController();
  let service: Awaited<ReturnType<typeof module.create>>;
  try {
    service = await module.create(config.service, {
      log,
      metrics: registry,
      signal: controller.signal,
      configDir: config.configDir,
    });
  } catch (error) {
    // One line naming what is wrong; the stack only at debug level (a bug, not a bad config).
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${module.name}: ${error instanceof ConfigError ? "" : "failed to start: "}${message}\n`);
    if (!(error instanceof ConfigError)) log.debug({ err: error }, "start failed");
    process.exit(1);
  }
  const running = await startService(service, { ...serverOptionsFrom(config.server), log, metrics: registry });
  const stop = (signal: string) => {
    log.info({ signal }, "shutdown requested");
    running.shutdown().then(
      async () => {
        controller.abort();
        await tracing?.shutdown().catch(() => undefined);
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  return running;
}

/** A stray rejection or exception is logged, never allowed to take the process down mid-traffic. */
function installProcessGuards(log: Logger): void {
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled rejection"));
  process.on("uncaughtException", (error) => log.error({ err: error }, "uncaught exception"));
}
