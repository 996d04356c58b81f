import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ZodType } from "zod";
import type { ConfigOverrides } from "./config.js";
import type { HeaderInput, HeaderMap } from "./headers.js";
import type {
  Awaitable,
  BodyMode,
  ForwardedMetadata,
  HeaderMutation,
  JsonValue,
  ProcessorFactory,
} from "./processor.js";

/** What happens when a processor throws or times out inside the SDK. */
export interface FailurePolicy {
  /** `open`: continue unmodified; `closed`: immediate response with `status`. */
  readonly mode: "open" | "closed";
  /** Status of the fail-closed reply (default 500). */
  readonly status: number;
}

/** Body modes assumed when Envoy sends no `protocol_config` (Envoy < 1.34). */
export interface AssumedModes {
  readonly requestBody: BodyMode;
  readonly responseBody: BodyMode;
  readonly sendBodyWithoutWaitingForHeaderResponse: boolean;
}

/** An ext_authz Check request as plain data. */
export interface AuthzRequest {
  readonly headers: HeaderMap;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  /** Present when Envoy's `with_request_body` is configured. */
  readonly body: Uint8Array | undefined;
  readonly metadata: ForwardedMetadata;
  readonly contextExtensions: Readonly<Record<string, string>>;
}

export type AuthzDecision =
  | {
      readonly allow: true;
      /** Changes to the upstream request headers. */
      readonly headers?: HeaderMutation;
      /** Headers added to the downstream response. */
      readonly responseHeaders?: HeaderInput;
      /** Emitted under `envoy.filters.http.ext_authz`. */
      readonly dynamicMetadata?: Readonly<Record<string, JsonValue>>;
    }
  | {
      readonly allow: false;
      readonly status: number;
      readonly headers?: HeaderInput;
      readonly body?: string;
      readonly dynamicMetadata?: Readonly<Record<string, JsonValue>>;
    };

export interface AuthzContext {
  readonly log: Logger;
  readonly requestId: string | undefined;
}

/** A running callout as the SDK server sees it. */
export interface Service {
  readonly name: string;
  /** Creates one processor per ext_proc stream. */
  readonly processor: ProcessorFactory;
  /** Opt-in `envoy.service.auth.v3.Authorization/Check`. */
  readonly authorize?: (request: AuthzRequest, context: AuthzContext) => Awaitable<AuthzDecision>;
  /** grpc.health.v1 names answered besides the SDK's (GIE's EPP probes `inference-extension`). */
  readonly healthNames?: readonly string[];
  /**
   * Guards the admin listener's /metrics: the request's Authorization header in, a verdict out
   * (401 for `unauthenticated`, 403 for `forbidden`; a rejection answers 503). Default: open.
   */
  readonly authorizeMetrics?: (
    authorization: string | undefined,
  ) => Awaitable<"allowed" | "unauthenticated" | "forbidden">;
  /** Readiness beyond "serving" (e.g. a model is loaded). Default: ready. */
  readonly isReady?: () => boolean;
  /** Releases resources after the drain (connections, timers). */
  readonly close?: () => Awaitable<void>;
  /** Defaults for Envoys that send no protocol_config; server config may override. */
  readonly assumedModes?: Partial<AssumedModes>;
  /** Default failure policy; server config may override. */
  readonly failure?: Partial<FailurePolicy>;
}

/** What the SDK gives a service at creation. */
export interface ServiceRuntime {
  readonly log: Logger;
  /** The process registry: register service metrics here (prefix `callouts_<service>_`). */
  readonly metrics: Registry;
  /** Aborted when the process shuts down. */
  readonly signal: AbortSignal;
  /** Directory of the config file, for resolving relative paths (or cwd). */
  readonly configDir: string;
}

/**
 * A service the CLI can run: its config section schema (with defaults, so an
 * empty section works) and a factory.
 */
export interface ServiceModule<Config = unknown> {
  readonly name: string;
  readonly description: string;
  readonly configSchema: ZodType<Config>;
  /**
   * Another implementation's command line, translated into config sections so its deployment
   * manifests start this service unchanged (the picker: GIE's and llm-d's EPP flags, run as
   * `callouts epp`). `parse` throws an Error naming the bad flag.
   */
  readonly upstreamFlags?: UpstreamFlags;
  create(config: Config, runtime: ServiceRuntime): Awaitable<Service>;
}

export interface UpstreamFlags {
  /** The CLI command that takes them (`epp`). */
  readonly command: string;
  /** One line for help: whose flags these are. */
  readonly description: string;
  readonly flagNames: readonly string[];
  parse(
    argv: readonly string[],
    env: NodeJS.ProcessEnv,
  ): { readonly overrides: ConfigOverrides; readonly notes: readonly string[] };
}

/** Identity helper that keeps the config type. */
export function defineServiceModule<Config>(module: ServiceModule<Config>): ServiceModule<Config> {
  return module;
}
