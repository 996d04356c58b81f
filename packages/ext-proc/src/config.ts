import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { LogFormat, LogLevel } from "./logger.js";

const bodyMode = z.enum(["NONE", "STREAMED", "BUFFERED", "BUFFERED_PARTIAL", "FULL_DUPLEX_STREAMED"]);
const port = z.number().int().min(0).max(65535);

/** The `server:` section shared by every service. Defaults mirror `defaultServerOptions`. */
export const serverConfigSchema = z
  .object({
    host: z.string().default("0.0.0.0"),
    /** Plaintext h2c gRPC port (GCP convention 8080); null disables it. */
    port: port.nullable().default(8080),
    /** Admin HTTP port: /healthz, /readyz, /metrics (GCP health checks use 80). */
    adminPort: port.nullable().default(8081),
    /**
     * A plaintext gRPC listener serving only grpc.health.v1 (GIE's --grpc-health-port 9003, for
     * Kubernetes gRPC probes while the ext_proc port speaks TLS); null: health on the gRPC ports only.
     */
    healthPort: port.nullable().default(null),
    tls: z
      .object({
        /** TLS gRPC port (GCP convention 443). */
        port: port.default(8443),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        selfSigned: z.boolean().default(false),
        clientCaFile: z.string().optional(),
        /** Re-read certFile/keyFile when they change on disk (a rotated Kubernetes secret). */
        reloadCerts: z.boolean().default(false),
        /** Lowest TLS version offered (Node's names); default Node's (TLSv1.2). */
        minVersion: z.enum(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]).optional(),
        /** OpenSSL cipher list for TLS 1.2 and below; default Node's. */
        ciphers: z.string().min(1).optional(),
      })
      .strict()
      .refine((t) => t.selfSigned || (t.certFile && t.keyFile), {
        message: "needs certFile and keyFile, or selfSigned: true",
      })
      .optional(),
    drainTimeoutMs: z.number().int().min(0).default(15_000),
    /** Per-connection HTTP/2 limits of the gRPC listeners (`connectionLimits` in server.ts). */
    http2: z
      .object({
        maxConcurrentStreams: z.number().int().min(1).max(4_294_967_295).optional(),
        earlyResetBurst: z.number().int().min(1).optional(),
        earlyResetsPerSecond: z.number().min(0).optional(),
        handshakeTimeoutMs: z.number().int().min(100).optional(),
      })
      .strict()
      .default({}),
    /** Largest gRPC message read; default maxBufferedBodyBytes + 1 MiB. */
    maxReceiveMessageBytes: z.number().int().min(1024).optional(),
    /** false: no tracing whatever OTEL_* says; true: tracing when the OTEL_* environment asks for it. */
    tracing: z.boolean().default(true),
    processorTimeoutMs: z.number().int().min(0).default(10_000),
    maxBufferedBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(32 * 1024 * 1024),
    /**
     * Whole-body handling in STREAMED mode holds every chunk's reply until the body ends; Envoy
     * stops reading a body whose unanswered chunks exceed its buffer limit (1 MiB by default).
     * Past this many held bytes the processor gets what arrived (`partial: true`) and the rest
     * passes. Keep it at or below the listener's per_connection_buffer_limit_bytes.
     */
    streamedHoldBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
    replyChunkBytes: z
      .number()
      .int()
      .min(1024)
      .max(128 * 1024)
      .default(62_000),
    failure: z
      .object({ mode: z.enum(["open", "closed"]).optional(), status: z.number().int().min(200).max(599).optional() })
      .strict()
      .default({}),
    /** Modes assumed when Envoy sends no protocol_config (Envoy < 1.34). */
    assumedModes: z
      .object({
        requestBody: bodyMode.optional(),
        responseBody: bodyMode.optional(),
        sendBodyWithoutWaitingForHeaderResponse: z.boolean().optional(),
      })
      .strict()
      .default({}),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** `json`: pino's numeric level and epoch-ms time; `gcp`: Cloud Logging's severity, ISO time, message. */
    logFormat: z.enum(["json", "gcp"]).default("json"),
    /** Who serves ExternalProcessor.Process: the lean gRPC handler or connect-node. */
    processTransport: z.enum(["lean", "connect"]).default("lean"),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Raised for invalid configuration; the message names every failing field. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Command-line overrides (flags win over environment, which wins over the file). */
export interface ConfigOverrides {
  readonly configFile?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly adminPort?: number | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  readonly tlsPort?: number | undefined;
  readonly tlsSelfSigned?: boolean | undefined;
  readonly tlsClientCa?: string | undefined;
  readonly logLevel?: LogLevel | undefined;
  readonly logFormat?: LogFormat | undefined;
  /**
   * Whole sections set from code (an upstream-compatible flag set translated by its service),
   * merged key by key over the file's sections; the flags above still win.
   */
  readonly sections?: { readonly server?: Record<string, unknown>; readonly service?: Record<string, unknown> };
}

export interface LoadedConfig<S> {
  readonly server: ServerConfig;
  readonly service: S;
  /** Directory of the config file (or cwd), for relative paths. */
  readonly configDir: string;
}

/** Environment variables read by every service. */
export function overridesFromEnv(env: NodeJS.ProcessEnv): ConfigOverrides {
  const num = (value: string | undefined) => (value === undefined || value === "" ? undefined : Number(value));
  return {
    configFile: env.CALLOUTS_CONFIG,
    host: env.CALLOUTS_HOST,
    port: num(env.CALLOUTS_PORT),
    adminPort: num(env.CALLOUTS_ADMIN_PORT),
    tlsCert: env.CALLOUTS_TLS_CERT,
    tlsKey: env.CALLOUTS_TLS_KEY,
    tlsPort: num(env.CALLOUTS_TLS_PORT),
    logLevel: env.CALLOUTS_LOG_LEVEL as LogLevel | undefined,
    logFormat: env.CALLOUTS_LOG_FORMAT as LogFormat | undefined,
  };
}

/**
 * Loads YAML file + environment + flags, validates with zod (server section and the
 * service's own schema), and freezes the result. Throws ConfigError listing every issue.
 */
export function loadConfig<S>(
  serviceSchema: z.ZodType<S>,
  flags: ConfigOverrides,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig<S> {
  const fromEnv = overridesFromEnv(env);
  const pick = <K extends keyof ConfigOverrides>(key: K) => flags[key] ?? fromEnv[key];
  const file = pick("configFile");
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
    }
    try {
      raw = (parseYaml(text) ?? {}) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`config file ${file} is not valid YAML: ${(error as Error).message}`);
    }
    if (typeof raw !== "object" || Array.isArray(raw)) throw new ConfigError(`config file ${file} must be a mapping`);
    const unknown = Object.keys(raw).filter((k) => k !== "server" && k !== "service");
    if (unknown.length > 0)
      throw new ConfigError(`config: unknown top-level key(s) ${unknown.join(", ")} (expected server, service)`);
  }
  const server = deepMerge((raw.server as Record<string, unknown>) ?? {}, flags.sections?.server ?? {});
  const service = deepMerge((raw.service as Record<string, unknown>) ?? {}, flags.sections?.service ?? {});
  const set = (key: string, value: unknown) => {
    if (value !== undefined) server[key] = value;
  };
  set("host", pick("host"));
  set("port", pick("port"));
  set("adminPort", pick("adminPort"));
  set("logLevel", pick("logLevel"));
  set("logFormat", pick("logFormat"));
  const tlsCert = pick("tlsCert");
  const tlsKey = pick("tlsKey");
  const tlsPort = pick("tlsPort");
  const selfSigned = flags.tlsSelfSigned;
  const clientCa = flags.tlsClientCa;
  if (tlsCert || tlsKey || tlsPort !== undefined || selfSigned || clientCa) {
    const tls = { ...((server.tls as Record<string, unknown>) ?? {}) };
    if (tlsCert) tls.certFile = tlsCert;
    if (tlsKey) tls.keyFile = tlsKey;
    if (tlsPort !== undefined) tls.port = tlsPort;
    if (selfSigned) tls.selfSigned = true;
    if (clientCa) tls.clientCaFile = clientCa;
    server.tls = tls;
  }
  const issues: string[] = [];
  const serverResult = serverConfigSchema.safeParse(server);
  if (!serverResult.success) issues.push(...formatIssues("server", serverResult.error));
  const serviceResult = serviceSchema.safeParse(service);
  if (!serviceResult.success) issues.push(...formatIssues("service", serviceResult.error));
  if (issues.length > 0 || !serverResult.success || !serviceResult.success) {
    throw new ConfigError(`invalid configuration:\n  ${issues.join("\n  ")}`);
  }
  return Object.freeze({
    server: deepFreeze(serverResult.data),
    service: deepFreeze(serviceResult.data),
    configDir: file ? dirname(resolve(file)) : process.cwd(),
  });
}

/** `over` merged into `base`: nested mappings key by key, anything else replaced. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isMapping(current) && isMapping(value) ? deepMerge(current, value) : value;
  }
  return out;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** An HTTP header name in a config (RFC 9110 token characters), lower-cased as Envoy keys them. */
export const headerNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name (token characters)")
  .transform((name) => name.toLowerCase());

/**
 * The one way a config error names where it is: `service.routes[2].weight` (under `prefix`), or
 * `(root)` for the document itself. Every config and config-like file the services read uses it.
 */
export function formatIssuePath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const part of path)
    out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  return out === "" ? "(root)" : out;
}

/** `service.routes[2].weight: Too small: expected number to be >=0`, one line per issue. */
export function formatIssues(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatIssuePath(issue.path, prefix)}: ${issue.message}`);
}

/** Freezes a parsed config and everything in it (configs are read-only after load). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
