import { type EchoConfig, echoConfigSchema, serviceModule } from "@llm-callouts/echo";
import { createEnvoyClient, type EnvoyClient } from "@llm-callouts/envoy-emulator";
import { type RunningService, type ServerOptions, type Service, startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";

export interface EchoServer {
  readonly server: RunningService;
  readonly client: EnvoyClient;
  close(): Promise<void>;
}

/** Starts the echo service on a free port with a client pointed at it. */
export async function startEcho(config: Partial<EchoConfig> = {}, options: ServerOptions = {}): Promise<EchoServer> {
  const runtime = createTestRuntime();
  const service = await serviceModule.create(echoConfigSchema.parse(config), runtime);
  return startWith(service, options);
}

export async function startWith(service: Service, options: ServerOptions = {}): Promise<EchoServer> {
  const runtime = createTestRuntime();
  const server = await startService(service, {
    host: "127.0.0.1",
    port: 0,
    adminPort: 0,
    log: runtime.log,
    ...options,
  });
  const client = createEnvoyClient(`127.0.0.1:${server.port}`);
  return {
    server,
    client,
    async close() {
      client.close();
      await server.shutdown();
    },
  };
}

/** Deterministic bytes: `size` bytes of a repeating lowercase pattern. */
export function pattern(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = 97 + ((i * 7 + (i >> 5)) % 26);
  return out;
}

/** Splits `data` into `parts` nearly equal chunks. */
export function split(data: Uint8Array, parts: number): Uint8Array[] {
  const size = Math.ceil(data.length / parts);
  const out: Uint8Array[] = [];
  for (let i = 0; i < parts; i++) out.push(data.subarray(i * size, Math.min(data.length, (i + 1) * size)));
  return out;
}

export const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
