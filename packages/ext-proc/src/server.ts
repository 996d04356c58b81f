import { once } from "node:events";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import {
  createServer as createH2cServer,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Authorization } from "@llm-callouts/proto/gen/envoy/service/auth/v3/external_auth_pb";
import { ExternalProcessor } from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { Health } from "@llm-callouts/proto/gen/grpc/health/v1/health_pb";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createAuthzService } from "./authz.js";
import { type ConnectionLimits, defaultConnectionLimits } from "./connection-limits.js";
import { createExtProcService, createStreamOpener, type StreamTracker, streamRunner } from "./ext-proc-handler.js";
import { createProcessStreamHandler, processPath } from "./grpc-process-handler.js";
import { createHealthService, createHealthState, type HealthState, healthServiceNames } from "./health.js";
import { createLogger } from "./logger.js";
import { createRegistry, createSdkMetrics } from "./metrics.js";
import type { AssumedModes, FailurePolicy, Service } from "./service.js";
import { loadTlsMaterial, type TlsOptions, watchTlsMaterial } from "./tls.js";

/** Server settings; every field has a default (see `defaultServerOptions`). */
export interface ServerOptions {
  /** Bind address (default 0.0.0.0). */
  readonly host?: string;
  /** Plaintext h2c gRPC port (default 8080; 0 = any free port; null = off). */
  readonly port?: number | null;
  /** Admin HTTP port for /healthz, /readyz, /metrics (default 8081; 0 = any; null = off). */
  readonly adminPort?: number | null;
  /** A plaintext listener serving only grpc.health.v1 (GIE's grpc-health-port); default none. */
  readonly healthPort?: number | null;
  readonly tls?: TlsOptions | undefined;
  /** How long in-flight streams may run after SIGTERM (default 15 s). */
  readonly drainTimeoutMs?: number;
  readonly processorTimeoutMs?: number;
  readonly maxBufferedBodyBytes?: number;
  /** Largest gRPC message read (default maxBufferedBodyBytes + 1 MiB). */
  readonly maxReceiveMessageBytes?: number | undefined;
  /** Per-connection HTTP/2 limits; each unset field takes `defaultConnectionLimits`' value. */
  readonly http2?: Partial<ConnectionLimits>;
  readonly replyChunkBytes?: number;
  /** Whole-body STREAMED bodies past this are handed over as `partial` (default 1 MiB, Envoy's buffer limit). */
  readonly streamedHoldBytes?: number;
  readonly failure?: Partial<FailurePolicy>;
  readonly assumedModes?: Partial<AssumedModes>;
  /**
   * Who serves ExternalProcessor.Process: `lean` (default), a small gRPC handler on the same
   * HTTP/2 server, or `connect` (connect-node, as for the other services). See the README.
   */
  readonly processTransport?: "lean" | "connect";
  readonly log?: Logger;
  readonly metrics?: Registry;
}

export const defaultServerOptions = {
  host: "0.0.0.0",
  port: 8080,
  adminPort: 8081,
  drainTimeoutMs: 15_000,
  processorTimeoutMs: 10_000,
  maxBufferedBodyBytes: 32 * 1024 * 1024, // 32 MiB
  replyChunkBytes: 62_000, // GIE's chunk size; GCP closes streams on replies over 128 KB
  streamedHoldBytes: 1024 * 1024, // Envoy's default per_connection_buffer_limit_bytes
  failure: { mode: "closed", status: 500 } satisfies FailurePolicy,
  assumedModes: {
    requestBody: "BUFFERED",
    responseBody: "NONE",
    sendBodyWithoutWaitingForHeaderResponse: false,
  } satisfies AssumedModes,
} as const;

export interface RunningService {
  readonly port: number | undefined;
  readonly tlsPort: number | undefined;
  readonly adminPort: number | undefined;
  readonly healthPort: number | undefined;
  readonly registry: Registry;
  readonly health: HealthState;
  /** Streams in flight. */
  readonly activeStreams: number;
  /**
   * Graceful stop: health turns NOT_SERVING, new streams are refused (GOAWAY),
   * in-flight streams get `drainTimeoutMs` to finish, then everything closes.
   */
  shutdown(): Promise<void>;
}

/**
 * Envoy ends every ext_proc stream by half-closing and then resetting it (closeStream() +
 * resetStream() in its gRPC client), so a busy connection sends one RST_STREAM per request.
 * nghttp2's Rapid Reset guard (CVE-2023-44487: burst 1,000, refill 33 a second by default) then
 * answers GOAWAY INTERNAL_ERROR after about 1,000 requests on one connection and fails every
 * stream in flight on it. The peers here are the proxy, not the internet, so the limit is raised
 * far above any real request rate and stays a bound. Node exposes these options since v22 (the
 * images run Node 24); Node 20 ignores them and keeps nghttp2's default.
 * `server-options.test.ts` shows the failure and the fix with the Envoy-faithful client.
 */
export const streamResetLimits = { streamResetBurst: 1_000_000, streamResetRate: 100_000 } as const;

/** Whether this Node passes `streamResetLimits` to nghttp2 (v22 and later). */
const resetLimitsApply = Number(process.versions.node.split(".")[0]) >= 22;

/** HTTP/2 settings sized for Envoy: many concurrent streams and MiB-sized bodies. */
const http2Settings = (limits: ConnectionLimits) => ({
  maxConcurrentStreams: limits.maxConcurrentStreams,
  initialWindowSize: 4 * 1024 * 1024,
});
const sessionWindowBytes = 32 * 1024 * 1024;

/** Starts the gRPC listeners (h2c and/or TLS) and the admin listener for a service. */
export async function startService(service: Service, options: ServerOptions = {}): Promise<RunningService> {
  const log = options.log ?? createLogger({ service: service.name });
  const registry = options.metrics ?? createRegistry();
  const metrics = createSdkMetrics(registry);
  const health = createHealthState();
  const failure: FailurePolicy = { ...defaultServerOptions.failure, ...service.failure, ...options.failure };
  const settings = {
    assumedModes: { ...defaultServerOptions.assumedModes, ...service.assumedModes, ...options.assumedModes },
    failure,
    maxBufferedBodyBytes: options.maxBufferedBodyBytes ?? defaultServerOptions.maxBufferedBodyBytes,
    replyChunkBytes: options.replyChunkBytes ?? defaultServerOptions.replyChunkBytes,
    streamedHoldBytes: options.streamedHoldBytes ?? defaultServerOptions.streamedHoldBytes,
    processorTimeoutMs: options.processorTimeoutMs ?? defaultServerOptions.processorTimeoutMs,
  };
  let active = 0;
  let draining = false;
  let idle: (() => void) | undefined;
  const tracker: StreamTracker = {
    get draining() {
      return draining;
    },
    begin: () => void active++,
    end: () => {
      active--;
      if (active === 0) idle?.();
    },
  };

  const openStream = createStreamOpener(service, log, metrics, settings, tracker);
  const readMaxBytes = options.maxReceiveMessageBytes ?? settings.maxBufferedBodyBytes + 1024 * 1024;
  const healthNames = [...healthServiceNames, ...(service.healthNames ?? [])];
  const healthService = createHealthService(health, healthNames, () => service.isReady?.() ?? true);
  const connectHandler = connectNodeAdapter({
    grpc: true,
    grpcWeb: false,
    connect: false,
    readMaxBytes,
    routes(router) {
      router.service(ExternalProcessor, createExtProcService(streamRunner(openStream)));
      router.service(Health, healthService);
      if (service.authorize) {
        router.service(
          Authorization,
          createAuthzService(service, log, metrics, failure.status, failure.mode === "open"),
        );
      }
    },
  });
  const lean = (options.processTransport ?? "lean") === "lean";
  const limits: ConnectionLimits = { ...defaultConnectionLimits, ...definedFields(options.http2 ?? {}) };
  const processStream = createProcessStreamHandler(openStream, readMaxBytes, limits);
  /**
   * With the lean transport, Process streams go to the raw-stream handler before node:http2
   * builds its compatibility request/response pair (the compat layer's 'stream' listener, which
   * feeds connect-node, then sees every other stream).
   */
  const routeProcessStreams = (server: Http2Server | Http2SecureServer) => {
    if (!lean) return;
    const compat = server.listeners("stream") as ((...args: unknown[]) => void)[];
    server.removeAllListeners("stream");
    server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest: unknown[]) => {
      if (headers[":path"] === processPath) processStream(stream, headers);
      else for (const listener of compat) listener.call(server, stream, headers, ...rest);
    });
  };

  const sessions = new Set<Http2Session>();
  const trackSessions = (server: Http2Server | Http2SecureServer) =>
    server.on("session", (session: Http2Session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
      session.on("error", (error) => log.debug({ err: error }, "http2 session error"));
      // Slowloris: a connection that never sends its preface and SETTINGS holds a socket forever.
      const handshake = setTimeout(() => {
        log.debug("closing a connection that sent no HTTP/2 SETTINGS in time");
        session.destroy();
      }, limits.handshakeTimeoutMs);
      handshake.unref();
      session.once("remoteSettings", () => clearTimeout(handshake));
      session.once("close", () => clearTimeout(handshake));
      try {
        session.setLocalWindowSize(sessionWindowBytes);
      } catch {
        // Not yet connected on some platforms; the stream windows still apply.
      }
    });

  const host = options.host ?? defaultServerOptions.host;
  const grpcServers: (Http2Server | Http2SecureServer)[] = [];
  const port = options.port === undefined ? defaultServerOptions.port : options.port;
  let boundPort: number | undefined;
  if (port !== null) {
    const server = createH2cServer(
      { settings: http2Settings(limits), maxSessionMemory: 512, ...streamResetLimits },
      connectHandler,
    );
    routeProcessStreams(server);
    trackSessions(server);
    boundPort = await listen(server, port, host);
    grpcServers.push(server);
  }
  let tlsPort: number | undefined;
  let stopCertWatch: (() => void) | undefined;
  if (options.tls) {
    const tls = options.tls;
    const material = await loadTlsMaterial(tls);
    const server = createSecureServer(
      {
        cert: material.cert,
        key: material.key,
        ca: material.ca,
        requestCert: material.ca !== undefined,
        rejectUnauthorized: material.ca !== undefined,
        ...(tls.minVersion ? { minVersion: tls.minVersion } : {}),
        ...(tls.ciphers ? { ciphers: tls.ciphers } : {}),
        allowHTTP1: false,
        handshakeTimeout: limits.handshakeTimeoutMs,
        settings: http2Settings(limits),
        maxSessionMemory: 512,
        ...streamResetLimits,
      },
      connectHandler,
    );
    routeProcessStreams(server);
    trackSessions(server);
    tlsPort = await listen(server, tls.port, host);
    grpcServers.push(server);
    if (tls.reloadCerts) {
      // New connections get the new pair; established ones keep theirs.
      stopCertWatch = watchTlsMaterial(
        tls,
        (next) => {
          server.setSecureContext({ cert: next.cert, key: next.key, ca: next.ca });
          log.info("TLS certificate reloaded");
        },
        (error) => log.warn({ err: error.message }, "TLS certificate reload failed; keeping the current one"),
      );
    }
  }

  const healthPortOption = options.healthPort ?? null;
  let healthPort: number | undefined;
  let healthServer: Http2Server | undefined;
  if (healthPortOption !== null) {
    const healthOnly = connectNodeAdapter({
      grpc: true,
      grpcWeb: false,
      connect: false,
      routes: (router) => router.service(Health, healthService),
    });
    const server = createH2cServer({ maxSessionMemory: 16 }, healthOnly);
    trackSessions(server);
    healthPort = await listen(server, healthPortOption, host);
    // Kept open through the drain: probes then see NOT_SERVING (readiness) and SERVING (liveness).
    healthServer = server;
  }

  const adminPortOption = options.adminPort === undefined ? defaultServerOptions.adminPort : options.adminPort;
  let admin: HttpServer | undefined;
  let adminPort: number | undefined;
  if (adminPortOption !== null) {
    admin = createAdminServer(service, registry, health, log);
    adminPort = await listen(admin, adminPortOption, host);
  }

  log.info({ port: boundPort, tls_port: tlsPort, admin_port: adminPort, health_port: healthPort }, "serving");
  if (!resetLimitsApply) {
    log.warn(
      { node: process.version },
      "this Node ignores http2 streamResetBurst/streamResetRate: behind Envoy (one RST_STREAM per request) a connection above about 33 requests/s gets GOAWAY after about 1,000 requests and its in-flight streams fail; serve on Node 22 or later (the images run Node 24)",
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    port: boundPort,
    tlsPort,
    adminPort,
    healthPort,
    registry,
    health,
    get activeStreams() {
      return active;
    },
    shutdown() {
      stopping ??= (async () => {
        draining = true;
        stopCertWatch?.();
        health.setServing(false);
        log.info({ active_streams: active }, "draining");
        for (const server of grpcServers) server.close();
        for (const session of sessions) session.close();
        if (active > 0) {
          const drained = new Promise<void>((resolve) => {
            idle = resolve;
          });
          const timeoutMs = options.drainTimeoutMs ?? defaultServerOptions.drainTimeoutMs;
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          });
          await Promise.race([drained, timedOut]);
          clearTimeout(timer);
          if (active > 0) log.warn({ active_streams: active }, "drain timed out; closing remaining streams");
        }
        healthServer?.close();
        for (const session of sessions) session.destroy();
        await service.close?.();
        if (admin) {
          admin.closeAllConnections();
          await new Promise<void>((resolve) => admin!.close(() => resolve()));
        }
        log.info("stopped");
      })();
      return stopping;
    },
  };
}

async function listen(server: Http2Server | Http2SecureServer | HttpServer, port: number, host: string) {
  server.listen(port, host);
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

/** GET / and /healthz (200 while serving; GCP health checks), /readyz, /metrics. */
function createAdminServer(service: Service, registry: Registry, health: HealthState, log: Logger): HttpServer {
  return createHttpServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const text = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return text(405, "method not allowed\n");
    switch (path) {
      case "/":
      case "/healthz":
        return health.serving ? text(200, "OK\n") : text(503, "draining\n");
      case "/readyz": {
        const ready = health.serving && (service.isReady?.() ?? true);
        return ready ? text(200, "ready\n") : text(503, "not ready\n");
      }
      case "/metrics":
        if (service.authorizeMetrics) {
          const authorize = service.authorizeMetrics;
          // A throw inside the hook is a rejection like any other (fail closed, never a crash).
          new Promise<Awaited<ReturnType<typeof authorize>>>((resolve) =>
            resolve(authorize(req.headers.authorization)),
          ).then(
            (verdict) => {
              if (verdict === "allowed") serveMetrics();
              else if (verdict === "unauthenticated") text(401, "Unauthorized\n");
              else text(403, "Forbidden\n");
            },
            (error: unknown) => {
              // Fail closed: no verdict, no metrics.
              log.warn({ err: (error as Error).message }, "metrics authorization failed");
              text(503, "metrics authorization unavailable\n");
            },
          );
          return;
        }
        return serveMetrics();
      default:
        return text(404, "not found\n");
    }
    function serveMetrics() {
      registry.metrics().then(
        (body) => text(200, body, registry.contentType),
        (error: unknown) => {
          log.error({ err: error }, "metrics failed");
          text(500, "metrics failed\n");
        },
      );
    }
  });
}

/** `value` without its undefined fields (so they do not override defaults in a spread). */
function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
