import { createEnvoyClient } from "@llm-callouts/envoy-emulator";
import { startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoConfigSchema } from "./config.js";
import { serviceModule } from "./index.js";

describe("echo smoke", () => {
  let server: Awaited<ReturnType<typeof startService>>;
  let client: ReturnType<typeof createEnvoyClient>;
  beforeAll(async () => {
    const runtime = createTestRuntime();
    const service = await serviceModule.create(
      echoConfigSchema.parse({
        addHeaders: [{ phase: "requestHeaders", name: "x-echo", value: "1" }],
        replaceBody: { request: "hello!" },
      }),
      runtime,
    );
    server = await startService(service, { host: "127.0.0.1", port: 0, adminPort: 0, log: runtime.log });
    client = createEnvoyClient(`127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    client.close();
    await server.shutdown();
  });

  it.each(["BUFFERED", "STREAMED", "FULL_DUPLEX_STREAMED"] as const)("works in %s", async (mode) => {
    const result = await client.exchange(
      {
        processingMode: {
          requestBodyMode: mode,
          requestTrailerMode: mode === "FULL_DUPLEX_STREAMED" ? "SEND" : "SKIP",
        },
      },
      { request: { headers: { ":path": "/v1/x" }, body: ["ab", "cd"] }, trace: true },
    );
    expect(result.error).toBeUndefined();
    expect(Buffer.from(result.upstream!.body).toString()).toBe("hello!");
    expect(result.upstream!.headers).toContainEqual(["x-echo", "1"]);
  });
});
