import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEnvoyClient } from "@llm-callouts/envoy-emulator";
import { startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { describe, expect, it } from "vitest";
import { serviceModule } from "./index.js";

const filter = {
  processingMode: { requestBodyMode: "FULL_DUPLEX_STREAMED", requestTrailerMode: "SEND", responseHeaderMode: "SKIP" },
} as const;

describe("serviceModule", () => {
  it("is named body-router and parses an empty section", () => {
    expect(serviceModule.name).toBe("body-router");
    expect(serviceModule.configSchema.parse({}).headers.model).toBe("x-gateway-model-name");
  });

  it("serves with a base model file relative to the config directory, reloads it, and exports metrics", async () => {
    const dir = await mkdtemp(join(tmpdir(), "body-router-index-"));
    const runtime = createTestRuntime({ configDir: dir });
    await writeFile(join(dir, "models.yaml"), "- baseModel: llama-8b\n  adapters: [sql-lora]\n");
    const config = serviceModule.configSchema.parse({ baseModelsFile: "models.yaml", baseModelsPollIntervalMs: 20 });
    const service = await serviceModule.create(config, runtime);
    const server = await startService(service, { host: "127.0.0.1", port: 0, adminPort: null, log: runtime.log });
    const client = createEnvoyClient(`127.0.0.1:${server.port}`);
    const base = async () => {
      const result = await client.exchange(filter, {
        request: { headers: { ":path": "/v1/chat/completions" }, body: ['{"model":"sql-lora"}'] },
      });
      return result.upstream?.headers.find(([n]) => n === "x-gateway-base-model-name")?.[1];
    };
    try {
      expect(await base()).toBe("llama-8b");
      await writeFile(join(dir, "models.tmp"), "- baseModel: llama-70b\n  adapters: [sql-lora]\n");
      await rename(join(dir, "models.tmp"), join(dir, "models.yaml"));
      let seen: string | undefined;
      for (let k = 0; k < 200 && seen !== "llama-70b"; k++) {
        await new Promise((r) => setTimeout(r, 10));
        seen = await base();
      }
      expect(seen).toBe("llama-70b");
      await client.exchange(filter, { request: { headers: { ":path": "/v1/chat/completions" }, body: ["nope"] } });
      const metrics = await runtime.metrics.metrics();
      expect(metrics).toContain(
        'callouts_body_router_requests_total{api="chat_completions",outcome="routed",model="sql-lora",target="sql-lora"}',
      );
      expect(metrics).toContain('callouts_body_router_errors_total{reason="invalid_json"} 1');
      expect(metrics).toContain('callouts_body_router_base_model_reloads_total{result="ok"} 2');
      expect(metrics).toMatch(/callouts_body_router_extraction_duration_seconds_count \d+/);
    } finally {
      client.close();
      await server.shutdown();
      await service.close?.();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
