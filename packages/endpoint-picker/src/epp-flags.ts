import { join } from "node:path";
import type { ConfigOverrides, LogLevel } from "@llm-callouts/ext-proc";
import { parseGoDurationMs, parseQuantity } from "./upstream/units.js";

/**
 * The command line of GIE's and llm-d-router's EPP (`cmd/epp`: pkg/epp/server/options.go, the
 * logging options and GIE v1.x's runner), translated into this picker's server and service
 * sections, so the argument list their Helm charts render starts this picker unchanged.
 *
 * Parsing follows Go's pflag: `--name=value` or `--name value`; a boolean takes no separate value
 * (`--name`, `--name=false`); `-v` is a shorthand; a single leading dash also works (Go's `flag`
 * package, which older GIE runners used); `--` ends the flags. An unknown flag, a positional
 * argument or a malformed value is an `EppFlagError` naming it. Flags this picker cannot honour
 * fail when they ask for what it lacks and are accepted (with a note) when they ask for what it
 * already does; README "GIE / llm-d EPP flags" has the table.
 */
export class EppFlagError extends Error {
  override readonly name = "EppFlagError";
}

export interface EppFlags {
  readonly overrides: ConfigOverrides;
  /** What was accepted without effect or adjusted, one line each, for the startup log. */
  readonly notes: readonly string[];
}

type Kind = "bool" | "string" | "int" | "duration" | "quantity" | "ints" | "strings";

/** Every flag with its kind and upstream default (undefined: unset). */
const flagKinds: Readonly<Record<string, Kind>> = {
  // ext_proc and health
  "grpc-port": "int",
  "grpc-health-port": "int",
  "metrics-port": "int",
  "ha-enable-leader-election": "bool",
  "drain-timeout": "duration",
  "grpc-max-recv-msg-size": "string",
  "grpc-max-send-msg-size": "string",
  "health-checking": "bool",
  "enable-grpc-stream-metrics": "bool",
  "enable-pprof": "bool",
  tracing: "bool",
  // InferencePool or a selector
  "pool-name": "string",
  "pool-namespace": "string",
  "pool-group": "string",
  "endpoint-selector": "string",
  "endpoint-target-ports": "ints",
  "disable-endpoint-subset-filter": "bool",
  "emit-endpoint-scores": "bool",
  // model-server metrics
  "refresh-metrics-interval": "duration",
  "refresh-prometheus-metrics-interval": "duration",
  "metrics-staleness-threshold": "duration",
  "model-server-metrics-port": "int",
  "model-server-metrics-path": "string",
  "model-server-metrics-scheme": "string",
  "model-server-metrics-https-insecure-skip-verify": "bool",
  "total-queued-requests-metric": "string",
  "total-running-requests-metric": "string",
  "kv-cache-usage-percentage-metric": "string",
  "lora-info-metric": "string",
  "cache-info-metric": "string",
  // TLS
  "secure-serving": "bool",
  "cert-path": "string",
  "enable-cert-reload": "bool",
  "tls-min-version": "string",
  "tls-cipher-suites": "strings",
  // the metrics endpoint
  "metrics-endpoint-auth": "bool",
  "metrics-cert-dir": "string",
  "metrics-client-ca-file": "string",
  // configuration
  "config-file": "string",
  "config-text": "string",
  "allow-experimental-plugins": "bool",
  // logging (klog-style -v and controller-runtime's zap flags)
  v: "int",
  "zap-devel": "bool",
  "zap-encoder": "string",
  "zap-log-level": "string",
  "zap-stacktrace-level": "string",
  "zap-time-encoding": "string",
};

type Value = string | number | boolean | number[] | string[];
type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T;

/** pflag-style parsing into flag name -> value (repeated list flags append, others: last wins). */
export function parseGoFlags(argv: readonly string[]): Map<string, Value> {
  const values = new Map<string, Value>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      if (i + 1 < argv.length) throw new EppFlagError(`unexpected argument ${JSON.stringify(argv[i + 1])}`);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") throw new EppFlagError(`unexpected argument ${JSON.stringify(arg)}`);
    let body = arg.replace(/^--?/, "");
    if (/^v\d+$/.test(body)) body = `v=${body.slice(1)}`; // pflag shorthand: -v4
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const kind = flagKinds[name];
    if (!kind) throw new EppFlagError(`unknown flag: ${arg.startsWith("--") ? "--" : "-"}${name}`);
    let text: string;
    if (eq >= 0) text = body.slice(eq + 1);
    else if (kind === "bool") text = "true";
    else {
      if (i + 1 >= argv.length) throw new EppFlagError(`flag needs an argument: --${name}`);
      text = argv[++i] as string;
    }
    values.set(name, convert(name, kind, text, values.get(name)));
  }
  return values;
}

function convert(name: string, kind: Kind, text: string, previous: Value | undefined): Value {
  const bad = (what: string) => new EppFlagError(`invalid argument ${JSON.stringify(text)} for --${name}: ${what}`);
  switch (kind) {
    case "bool": {
      // strconv.ParseBool
      if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
      if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
      throw bad("not a boolean");
    }
    case "int": {
      if (!/^[+-]?\d+$/.test(text.trim())) throw bad("not an integer");
      return Number(text);
    }
    case "duration": {
      const ms = parseGoDurationMs(text);
      if (ms === undefined) throw bad('not a Go duration (e.g. "50ms", "2s", "1m30s")');
      return ms;
    }
    case "ints": {
      const list = text === "" ? [] : text.split(",").map((p) => p.trim());
      if (list.some((p) => !/^[+-]?\d+$/.test(p))) throw bad("not a comma-separated list of integers");
      return [...((previous as number[] | undefined) ?? []), ...list.map(Number)];
    }
    case "strings": {
      const list = text === "" ? [] : text.split(",").map((p) => p.trim());
      return [...((previous as string[] | undefined) ?? []), ...list];
    }
    default:
      return text;
  }
}

/** Go's crypto/tls names (tls.CipherSuites(), TLS 1.2) -> OpenSSL's. TLS 1.3 suites are not configurable, as in Go. */
const cipherSuites: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
};
const tls13Suites = new Set(["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]);
const tlsVersions: Readonly<Record<string, "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3">> = {
  VersionTLS10: "TLSv1",
  VersionTLS11: "TLSv1.1",
  VersionTLS12: "TLSv1.2",
  VersionTLS13: "TLSv1.3",
};

/** Upstream's minimum scrape interval: shorter values are clamped, with a warning. */
const minRefreshMetricsIntervalMs = 50;

/**
 * Upstream's verbosity scale (-v: 2 default, 3 verbose, 4 debug, 5 trace) on pino's levels.
 * controller-runtime's zap level names map one to one; `panic` is pino's `fatal`.
 */
function logLevelOf(verbosity: number): LogLevel {
  return verbosity >= 5 ? "trace" : verbosity >= 4 ? "debug" : "info";
}
const zapLevels: Readonly<Record<string, LogLevel>> = {
  debug: "debug",
  info: "info",
  error: "error",
  panic: "fatal",
};

/** `k=v,k2==v2` (labels.Parse, equality terms); set-based terms are refused by name. */
export function parseEqualitySelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const term of text.split(",").map((t) => t.trim())) {
    if (term === "") continue;
    const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)\s*==?\s*([-A-Za-z0-9_.]*)$/.exec(term);
    if (!m) {
      throw new EppFlagError(
        `--endpoint-selector: only equality terms (key=value) are supported, got ${JSON.stringify(term)}`,
      );
    }
    out[m[1] as string] = m[2] as string;
  }
  return out;
}

/** Byte sizes as --grpc-max-*-msg-size takes them ("10MiB", "25MB", "4194304"). */
function messageSize(name: string, text: string): number {
  const trimmed = text.trim();
  const q = parseQuantity(trimmed.length > 1 && /[Bb]$/.test(trimmed) ? trimmed.slice(0, -1) : trimmed);
  if (q === undefined || q < 0 || !Number.isInteger(q))
    throw new EppFlagError(`invalid ${name}: ${JSON.stringify(text)} is not a byte size (e.g. 10MiB, 25MB)`);
  return q;
}

/** Translates GIE / llm-d EPP arguments into this picker's config sections. */
export function parseEppFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): EppFlags {
  const f = parseGoFlags(argv);
  const notes: string[] = [];
  const get = <T extends Value>(name: string, fallback: T): Widen<T> =>
    (f.has(name) ? f.get(name) : fallback) as Widen<T>;
  const has = (name: string) => f.has(name);
  const server: Record<string, unknown> = { host: "0.0.0.0" };
  const service: Record<string, unknown> = {};

  // --- Where endpoints come from: an InferencePool, or a selector (exactly one, as upstream).
  const poolName = get("pool-name", "");
  const selectorText = get("endpoint-selector", "");
  if ((poolName === "") === (selectorText === ""))
    throw new EppFlagError("either pool-name or endpoint-selector must be set");
  const namespace = get("pool-namespace", "") || env.NAMESPACE || "default";
  if (poolName !== "") {
    const group = get("pool-group", "inference.networking.k8s.io");
    if (group !== "inference.networking.k8s.io" && group !== "inference.networking.x-k8s.io") {
      throw new EppFlagError(
        `--pool-group ${JSON.stringify(group)}: supported groups are inference.networking.k8s.io and inference.networking.x-k8s.io`,
      );
    }
    service.endpoints = { kubernetes: { namespace, poolName, group } };
  } else {
    const ports = [...new Set(get<number[]>("endpoint-target-ports", []))];
    if (ports.length === 0 || ports.length > 8)
      throw new EppFlagError('flag "endpoint-target-ports" should have length from 1 to 8');
    for (const p of ports)
      if (p < 1 || p > 65535) throw new EppFlagError(`invalid port number ${p} in "endpoint-target-ports"`);
    service.endpoints = {
      kubernetes: { namespace, selector: parseEqualitySelector(selectorText), targetPorts: ports },
    };
  }
  if (get("disable-endpoint-subset-filter", false)) service.subsetFilter = false;
  if (get("emit-endpoint-scores", false)) service.emitEndpointScores = true;

  // --- The scheduler's EndpointPickerConfig.
  const configFile = get("config-file", "");
  const configText = get("config-text", "");
  if (configFile !== "" && configText !== "")
    throw new EppFlagError('both the "config-file" and "config-text" flags cannot be set at the same time');
  if (configFile !== "") service.scheduler = { configFile };
  if (configText !== "") service.scheduler = { configText };

  // --- Model-server metrics.
  const metrics: Record<string, unknown> = {};
  let interval = get("refresh-metrics-interval", minRefreshMetricsIntervalMs);
  if (interval < minRefreshMetricsIntervalMs) {
    notes.push(`refresh-metrics-interval ${interval}ms is below the minimum; clamped to 50ms`);
    interval = minRefreshMetricsIntervalMs;
  }
  metrics.scrapeIntervalMs = Math.round(interval);
  if (has("metrics-staleness-threshold")) {
    const ms = get("metrics-staleness-threshold", 2000);
    if (ms <= 0) throw new EppFlagError("--metrics-staleness-threshold must be positive");
    metrics.stalenessMs = Math.round(ms);
  }
  if (has("refresh-prometheus-metrics-interval"))
    notes.push("refresh-prometheus-metrics-interval: accepted; gauges here are computed when /metrics is read");
  if (has("model-server-metrics-port")) metrics.port = get("model-server-metrics-port", 0);
  if (has("model-server-metrics-path")) metrics.path = get("model-server-metrics-path", "/metrics");
  if (has("model-server-metrics-scheme")) {
    const scheme = get("model-server-metrics-scheme", "http");
    if (scheme !== "http" && scheme !== "https")
      throw new EppFlagError(`--model-server-metrics-scheme ${JSON.stringify(scheme)}: http or https`);
    metrics.scheme = scheme;
  }
  if (get("model-server-metrics-https-insecure-skip-verify", false)) metrics.insecureSkipVerify = true;
  const legacy: Record<string, string> = {};
  const legacyFlags = {
    "total-queued-requests-metric": "waiting",
    "total-running-requests-metric": "running",
    "kv-cache-usage-percentage-metric": "kvCacheUsage",
    "lora-info-metric": "lora",
    "cache-info-metric": "cacheInfo",
  } as const;
  for (const [flag, key] of Object.entries(legacyFlags)) {
    if (!has(flag)) continue;
    const spec = get(flag, "");
    if (spec === "" && (key === "waiting" || key === "running" || key === "kvCacheUsage"))
      throw new EppFlagError(`--${flag} cannot be empty (only the LoRA and cache-info metrics are optional)`);
    legacy[key] = spec;
  }
  if (Object.keys(legacy).length > 0) {
    metrics.specs = legacy;
    notes.push(
      "the --*-metric flags are deprecated upstream (llm-d rejects them); they set the default engine's metric names here, as GIE v1.x",
    );
  }
  service.metrics = metrics;

  // --- Listeners. Upstream serves ext_proc with TLS unless --secure-serving=false.
  const grpcPort = get("grpc-port", 9002);
  server.healthPort = get("grpc-health-port", 9003);
  server.adminPort = get("metrics-port", 9090);
  if (get("secure-serving", true)) {
    const certPath = get("cert-path", "");
    const tls: Record<string, unknown> = { port: grpcPort };
    if (certPath !== "") {
      tls.certFile = join(certPath, "tls.crt");
      tls.keyFile = join(certPath, "tls.key");
      if (get("enable-cert-reload", false)) tls.reloadCerts = true;
    } else {
      tls.selfSigned = true;
      if (get("enable-cert-reload", false))
        notes.push("enable-cert-reload without cert-path: nothing to reload (the certificate is self-signed)");
    }
    if (has("tls-min-version")) {
      const v = tlsVersions[get("tls-min-version", "")];
      if (!v)
        throw new EppFlagError(
          `invalid tls-min-version ${JSON.stringify(get("tls-min-version", ""))}; supported values: ${Object.keys(tlsVersions).join(", ")}`,
        );
      tls.minVersion = v;
    }
    const suites = get<string[]>("tls-cipher-suites", []);
    if (suites.length > 0) {
      const unknown = suites.filter((s) => !cipherSuites[s] && !tls13Suites.has(s));
      if (unknown.length > 0)
        throw new EppFlagError(`invalid tls-cipher-suites: unsupported cipher suite ${unknown[0]}`);
      const openssl = suites.map((s) => cipherSuites[s]).filter((s): s is string => s !== undefined);
      if (openssl.length > 0) tls.ciphers = openssl.join(":");
    }
    server.tls = tls;
    server.port = null;
  } else {
    server.port = grpcPort;
    for (const flag of ["cert-path", "enable-cert-reload", "tls-min-version", "tls-cipher-suites"])
      if (has(flag)) notes.push(`${flag}: no effect with --secure-serving=false`);
  }
  if (has("drain-timeout")) server.drainTimeoutMs = Math.max(0, Math.round(get("drain-timeout", 30_000)));
  else server.drainTimeoutMs = 30_000; // upstream's default drain window
  if (has("grpc-max-recv-msg-size"))
    server.maxReceiveMessageBytes = Math.max(
      1024,
      messageSize("grpc-max-recv-msg-size", get("grpc-max-recv-msg-size", "")),
    );
  if (has("grpc-max-send-msg-size")) {
    const limit = messageSize("grpc-max-send-msg-size", get("grpc-max-send-msg-size", ""));
    // Replies are chunked (62,000 bytes by default); a smaller limit makes the chunks smaller.
    if (limit < 4096) throw new EppFlagError("--grpc-max-send-msg-size below 4KiB cannot carry a header reply");
    if (limit < 62_000 + 1024) server.replyChunkBytes = Math.max(1024, limit - 1024);
  }
  server.tracing = get("tracing", true);

  // --- The metrics endpoint.
  const metricsCertDir = get("metrics-cert-dir", "");
  const metricsClientCa = get("metrics-client-ca-file", "");
  const metricsAuth = get("metrics-endpoint-auth", true);
  if (metricsClientCa !== "" && metricsCertDir === "")
    throw new EppFlagError('"metrics-client-ca-file" requires "metrics-cert-dir"');
  if (metricsCertDir !== "" && metricsClientCa === "" && !metricsAuth)
    throw new EppFlagError(
      '"metrics-cert-dir" enables metrics TLS without authentication; set "metrics-client-ca-file" or "metrics-endpoint-auth"',
    );
  if (metricsCertDir !== "")
    throw new EppFlagError("--metrics-cert-dir: TLS on the metrics port is not supported; it serves plain HTTP");
  service.metricsAuth = metricsAuth ? "kubernetes" : "none";

  // --- Logging: -v, or --zap-log-level when given; JSON lines either way.
  const zapLevel = get("zap-log-level", "");
  if (zapLevel !== "") {
    const level = zapLevels[zapLevel] ?? (/^\d+$/.test(zapLevel) ? logLevelOf(Number(zapLevel)) : undefined);
    if (!level)
      throw new EppFlagError(
        `invalid argument ${JSON.stringify(zapLevel)} for --zap-log-level: debug, info, error, panic or an integer > 0`,
      );
    server.logLevel = level;
  } else {
    server.logLevel = logLevelOf(get("v", 2));
  }
  const encoder = get("zap-encoder", "json");
  if (encoder !== "json" && encoder !== "console")
    throw new EppFlagError(`invalid argument ${JSON.stringify(encoder)} for --zap-encoder: json or console`);
  if (encoder === "console") notes.push("zap-encoder console: logs are JSON lines here");
  for (const flag of ["zap-devel", "zap-stacktrace-level", "zap-time-encoding"])
    if (has(flag)) notes.push(`${flag}: accepted; log lines keep pino's JSON shape`);

  // --- Accepted as what this picker already does, or cannot do and says so.
  if (get("ha-enable-leader-election", false))
    notes.push("ha-enable-leader-election: no Lease is taken; every replica serves (active-active) and reports ready");
  if (has("health-checking")) notes.push("health-checking: grpc.health.v1 is always served");
  if (has("enable-grpc-stream-metrics"))
    notes.push("enable-grpc-stream-metrics: stream metrics (callouts_ext_proc_*) are always on");
  if (get("enable-pprof", false) && has("enable-pprof"))
    notes.push("enable-pprof: Go's pprof handlers have no Node counterpart here; use node --inspect or --cpu-prof");
  if (has("allow-experimental-plugins")) notes.push("allow-experimental-plugins: every plugin here is always allowed");

  return { overrides: { sections: { server, service } }, notes };
}

/** The flags accepted, for --help. */
export const eppFlagNames: readonly string[] = Object.keys(flagKinds);
