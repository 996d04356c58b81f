import {
  createLogger,
  type Logger,
  type RunningService,
  type ServiceModule,
  startService,
} from "@llm-callouts/ext-proc";
import { type GatewayConfigInput, type GatewayHandle, startGateway } from "@llm-callouts/gateway";
import { type SimulatorHandle, startSimulator } from "@llm-callouts/model-server-sim";
import { responseBodyOverrides } from "@llm-callouts/semantic-cache";
import { Registry } from "prom-client";
import { loadServiceModule } from "./services.js";

/** The demo deployment: two pools of simulated vLLM replicas, one with LoRA adapters. */
export const stackModels = {
  llama: "meta-llama/Llama-3.1-8B-Instruct",
  qwen: "Qwen/Qwen2.5-7B-Instruct",
  /** Loaded on the first llama replica only, so routing it is visible. */
  sqlAdapter: "sql-lora",
  /** Loaded on both llama replicas. */
  chatAdapter: "chat-lora",
} as const;

export interface StackOptions {
  readonly host?: string;
  /** Gateway port (0 = any free port). */
  readonly gatewayPort?: number;
  /** Switches the cache to Redis (default: process.env.REDIS_URL, else in memory). */
  readonly redisUrl?: string | undefined;
  /** Simulator speed-up factor (1 = real time). */
  readonly simSpeedUp?: number;
  /** Progress lines (default: silent). */
  readonly progress?: (line: string) => void;
  readonly log?: Logger;
}

export interface StackHandle {
  readonly gateway: GatewayHandle;
  /** Callouts by name: body-router, guardrail, semantic-cache, picker-llama, picker-qwen. */
  readonly callouts: ReadonlyMap<string, RunningService>;
  /** Replicas per pool. */
  readonly pools: { readonly llama: readonly SimulatorHandle[]; readonly qwen: readonly SimulatorHandle[] };
  close(): Promise<void>;
}

const guardrailNamespace = "com.llm-callouts.guardrail";

/**
 * Starts the whole pipeline on embedded defaults: the four callouts (two endpoint pickers,
 * one per pool), the simulated replicas and the gateway, in this process.
 */
export async function startStack(options: StackOptions = {}): Promise<StackHandle> {
  const host = options.host ?? "127.0.0.1";
  const progress = options.progress ?? (() => {});
  const log = options.log ?? createLogger({ level: "warn", service: "stack" });
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => {});
  };
  try {
    const speedUp = options.simSpeedUp ?? 1;
    progress("starting simulated vLLM replicas");
    const llama = [
      await startSimulator({
        host,
        port: 0,
        model: stackModels.llama,
        loras: [stackModels.sqlAdapter, stackModels.chatAdapter],
        speedUp,
      }),
      await startSimulator({ host, port: 0, model: stackModels.llama, loras: [stackModels.chatAdapter], speedUp }),
    ];
    const qwen = [
      await startSimulator({ host, port: 0, model: stackModels.qwen, speedUp }),
      await startSimulator({ host, port: 0, model: stackModels.qwen, speedUp }),
    ];
    for (const s of [...llama, ...qwen]) closers.push(() => s.close());
    progress(`  llama pool: ${llama.map((s) => s.url).join(", ")}`);
    progress(`  qwen pool:  ${qwen.map((s) => s.url).join(", ")}`);

    const callouts = new Map<string, RunningService>();
    const start = async (name: string, moduleName: string, serviceConfig: unknown) => {
      const module = (await loadServiceModule(moduleName)) as ServiceModule;
      const runtime = {
        log: log.child({ service: name }),
        metrics: new Registry(),
        signal: new AbortController().signal,
        configDir: process.cwd(),
      };
      const service = await module.create(module.configSchema.parse(serviceConfig), runtime);
      const running = await startService(service, {
        host,
        port: 0,
        adminPort: 0,
        log: runtime.log,
        metrics: runtime.metrics,
        drainTimeoutMs: 2000,
      });
      closers.push(() => running.shutdown());
      callouts.set(name, running);
      progress(
        `  ${name.padEnd(15)} grpc 127.0.0.1:${running.port}  admin http://127.0.0.1:${running.adminPort}/metrics`,
      );
      return running;
    };
    progress("starting callouts");
    const router = await start("body-router", "body-router", {
      baseModels: [{ baseModel: stackModels.llama, adapters: [stackModels.sqlAdapter, stackModels.chatAdapter] }],
    });
    const guardrail = await start("guardrail", "guardrail", {});
    const cache = await start("semantic-cache", "semantic-cache", {
      redisUrl: options.redisUrl ?? process.env.REDIS_URL ?? "",
    });
    const endpoints = (replicas: SimulatorHandle[]) =>
      replicas.map((s) => {
        const url = new URL(s.url);
        return { address: url.hostname, port: Number(url.port) };
      });
    const pickerLlama = await start("picker-llama", "endpoint-picker", {
      endpoints: { static: endpoints(llama) },
      fallbackEndpoints: 1,
    });
    const pickerQwen = await start("picker-qwen", "endpoint-picker", {
      endpoints: { static: endpoints(qwen) },
      fallbackEndpoints: 1,
    });

    progress("starting gateway");
    const gateway = await startGateway(
      stackGatewayConfig(host, options.gatewayPort ?? 8000, {
        router: router.port!,
        guardrail: guardrail.port!,
        cache: cache.port!,
        pickerLlama: pickerLlama.port!,
        pickerQwen: pickerQwen.port!,
      }),
      log,
    );
    closers.push(() => gateway.close());
    return { gateway, callouts, pools: { llama, qwen }, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The cache filter's processing mode, every field explicit as in deploy/envoy/envoy.yaml. */
const cacheProcessingMode = {
  requestHeaderMode: "SEND",
  responseHeaderMode: "SEND",
  requestBodyMode: "BUFFERED",
  responseBodyMode: "NONE",
  requestTrailerMode: "SKIP",
  responseTrailerMode: "SKIP",
} as const;

/**
 * The chain, in Envoy http_filters order (responses run in reverse):
 * body router -> input guardrail -> semantic cache -> output guardrail -> endpoint picker.
 * The guardrail runs twice so that the cache stores only answers the output guardrail has
 * already redacted (on the response path the output guardrail comes before the cache).
 */
export function stackGatewayConfig(
  host: string,
  port: number,
  ports: { router: number; guardrail: number; cache: number; pickerLlama: number; pickerQwen: number },
): GatewayConfigInput {
  const target = (p: number) => `${host}:${p}`;
  const picker = (name: string, p: number, pool: string) => ({
    name,
    target: target(p),
    pools: [pool],
    processingMode: {
      requestBodyMode: "FULL_DUPLEX_STREAMED" as const,
      requestTrailerMode: "SEND" as const,
      responseHeaderMode: "SEND" as const,
      responseBodyMode: "FULL_DUPLEX_STREAMED" as const,
      responseTrailerMode: "SEND" as const,
    },
    messageTimeoutMs: 60_000,
    failureModeAllow: false,
    receivingNamespaces: ["envoy.lb"],
    forwardingNamespaces: ["envoy.lb", "envoy.lb.subset_hint"],
  });
  return {
    host,
    port,
    filters: [
      {
        name: "body-router",
        target: target(ports.router),
        processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SKIP" },
        messageTimeoutMs: 1000,
        receivingNamespaces: ["com.llm-callouts.body-router"],
      },
      {
        name: "guardrail-input",
        target: target(ports.guardrail),
        processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SKIP" },
        messageTimeoutMs: 1000,
        receivingNamespaces: [guardrailNamespace],
      },
      {
        name: "semantic-cache",
        target: target(ports.cache),
        processingMode: cacheProcessingMode,
        allowModeOverride: true,
        // As deploy/envoy/envoy.yaml: Envoy needs the filled-in override listed exactly.
        allowedOverrideModes: Object.values(responseBodyOverrides).map((responseBodyMode) => ({
          ...cacheProcessingMode,
          requestHeaderMode: undefined,
          responseBodyMode,
        })),
        failureModeAllow: true,
        messageTimeoutMs: 1000,
        forwardingNamespaces: [guardrailNamespace],
      },
      {
        name: "guardrail-output",
        target: target(ports.guardrail),
        processingMode: { requestHeaderMode: "SEND", responseHeaderMode: "SEND", responseBodyMode: "STREAMED" },
        messageTimeoutMs: 1000,
      },
      picker("picker-llama", ports.pickerLlama, "llama"),
      picker("picker-qwen", ports.pickerQwen, "qwen"),
    ],
    pools: [
      { name: "llama", models: [stackModels.llama, stackModels.sqlAdapter, stackModels.chatAdapter], endpoints: [] },
      { name: "qwen", models: [stackModels.qwen], endpoints: [] },
    ],
  };
}
