import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenize } from "../engine/tokenizer.js";
import { applyChatTemplate } from "./openai.js";
import { type SimulatorHandle, startSimulator } from "./simulator.js";

const model = "meta-llama/Llama-3.1-8B-Instruct";
let sim: SimulatorHandle;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any;
const json = async (res: Response): Promise<Json> => res.json();

beforeAll(async () => {
  sim = await startSimulator({ speedUp: 1000, loras: ["sql-lora"], engine: { numGpuBlocks: 500, maxLoras: 2 } });
});
afterAll(async () => {
  await sim.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

/** Splits an SSE body into its `data:` payloads, checking the framing. */
function sseEvents(body: string): string[] {
  expect(body.endsWith("\n\n")).toBe(true);
  return body
    .slice(0, -2)
    .split("\n\n")
    .map((e) => {
      expect(e.startsWith("data: ")).toBe(true);
      return e.slice(6);
    });
}

const metrics = async () => (await fetch(`${sim.url}/metrics`)).text();
const gauge = (text: string, name: string) =>
  Number(
    text
      .split("\n")
      .find((l) => l.startsWith(`${name}{`))
      ?.split(" ")
      .at(-1),
  );

describe("startSimulator() OpenAI endpoints", () => {
  it("answers a non-streaming chat completion with usage", async () => {
    const messages = [{ role: "user", content: "Hello there, simulator!" }];
    const res = await post("/v1/chat/completions", { model, messages, max_tokens: 5 }, { "x-request-id": "req-42" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("req-42");
    expect(res.headers.get("x-sim-served-by")).toBe(sim.url.replace("http://", ""));
    const body = await json(res);
    expect(body).toMatchObject({
      object: "chat.completion",
      model,
      choices: [{ index: 0, message: { role: "assistant" }, finish_reason: "length" }],
      usage: {
        prompt_tokens: tokenize(applyChatTemplate(messages)).length,
        completion_tokens: 5,
        total_tokens: tokenize(applyChatTemplate(messages)).length + 5,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(body.choices[0].message.content.split(" ").filter(Boolean)).toHaveLength(5);
  });

  it("streams chat chunks, then a usage chunk, then [DONE] when include_usage is set", async () => {
    const res = await post("/v1/chat/completions", {
      model,
      messages: [{ role: "user", content: "stream please" }],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("x-sim-served-by")).toBe(sim.url.replace("http://", ""));
    const events = sseEvents(await res.text());
    expect(events).toHaveLength(6);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks[0].choices[0]).toEqual({
      index: 0,
      delta: { role: "assistant", content: "" },
      logprobs: null,
      finish_reason: null,
    });
    expect(chunks.slice(1, 4).map((c) => c.choices[0].finish_reason)).toEqual([null, null, "length"]);
    for (const c of chunks.slice(0, 4)) {
      expect(c.object).toBe("chat.completion.chunk");
      expect(c.usage).toBeUndefined();
    }
    expect(chunks[4]).toMatchObject({ object: "chat.completion.chunk", choices: [], usage: { completion_tokens: 3 } });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it("streams completions without a usage chunk by default", async () => {
    const res = await post("/v1/completions", { model, prompt: "once upon a time", max_tokens: 2, stream: true });
    const events = sseEvents(await res.text());
    expect(events).toHaveLength(3);
    const chunks = events.slice(0, 2).map((e) => JSON.parse(e));
    expect(chunks.map((c) => [c.object, c.choices[0].finish_reason])).toEqual([
      ["text_completion", null],
      ["text_completion", "length"],
    ]);
  });

  it("generates defaultMaxTokens and finishes with stop when max_tokens is absent", async () => {
    const body = await json(await post("/v1/completions", { model, prompt: "hi" }));
    expect(body.object).toBe("text_completion");
    expect(body.choices[0].finish_reason).toBe("stop");
    expect(body.usage.completion_tokens).toBe(16);
  });

  it("reports prefix-cache hits in usage.prompt_tokens_details.cached_tokens", async () => {
    const prompt = "abcdefgh".repeat(32); // 256 chars = 64 tokens = 4 blocks of 16
    const first = await json(await post("/v1/completions", { model, prompt, max_tokens: 1 }));
    const second = await json(await post("/v1/completions", { model, prompt, max_tokens: 1 }));
    expect(first.usage.prompt_tokens_details.cached_tokens).toBe(0);
    // The last block is always recomputed: floor((64 - 1) / 16) = 3 blocks.
    expect(second.usage.prompt_tokens_details.cached_tokens).toBe(48);
  });

  it.each([
    { name: "invalid JSON", body: "{nope", status: 400, type: "BadRequestError" },
    { name: "missing messages", body: { model }, status: 400, type: "BadRequestError" },
    {
      name: "unknown model",
      body: { model: "nope", messages: [{ role: "user", content: "x" }] },
      status: 404,
      type: "NotFoundError",
    },
    {
      name: "context too long",
      body: { model, messages: [{ role: "user", content: "x" }], max_tokens: 9000 },
      status: 400,
      type: "BadRequestError",
    },
  ])("rejects $name with $status", async ({ body, status, type }) => {
    const res = await post("/v1/chat/completions", body);
    expect(res.status).toBe(status);
    expect((await json(res)).error).toMatchObject({ type, code: status });
  });

  it("rejects a request that could never fit in the KV cache", async () => {
    const tiny = await startSimulator({ engine: { numGpuBlocks: 2 } });
    try {
      const res = await fetch(`${tiny.url}/v1/completions`, {
        method: "POST",
        body: JSON.stringify({ model, prompt: "x".repeat(200), max_tokens: 1 }),
      });
      expect(res.status).toBe(400);
      expect((await json(res)).error.message).toBe("Request needs 4 KV blocks but the cache has 2.");
    } finally {
      await tiny.close();
    }
  });

  it("answers 404 on unknown paths", async () => {
    const res = await fetch(`${sim.url}/nope`);
    expect(res.status).toBe(404);
  });
});

describe("startSimulator() LoRA adapters", () => {
  it("loads, serves, lists and unloads adapters as vLLM does", async () => {
    const load = await post("/v1/load_lora_adapter", { lora_name: "math-lora", lora_path: "/adapters/math" });
    expect(load.status).toBe(200);
    expect(await load.text()).toBe("Success: LoRA adapter 'math-lora' added successfully.");
    const again = await post("/v1/load_lora_adapter", { lora_name: "math-lora", lora_path: "/adapters/math" });
    expect(again.status).toBe(400);
    const models = await json(await fetch(`${sim.url}/v1/models`));
    expect(models.data.map((m: { id: string; parent: string | null }) => [m.id, m.parent])).toEqual([
      [model, null],
      ["sql-lora", model],
      ["math-lora", model],
    ]);
    const served = await post("/v1/completions", { model: "math-lora", prompt: "1+1=", max_tokens: 1 });
    expect((await json(served)).model).toBe("math-lora");
    const unload = await post("/v1/unload_lora_adapter", { lora_name: "math-lora" });
    expect(await unload.text()).toBe("Success: LoRA adapter 'math-lora' removed successfully.");
    expect((await post("/v1/unload_lora_adapter", { lora_name: "math-lora" })).status).toBe(404);
    expect((await post("/v1/completions", { model: "math-lora", prompt: "x" })).status).toBe(404);
  });

  it("requires lora_name and lora_path", async () => {
    expect((await post("/v1/load_lora_adapter", { lora_name: "x" })).status).toBe(400);
  });
});

describe("startSimulator() metrics", () => {
  it("serves the engine's gauges with vLLM names and cache config", async () => {
    const res = await fetch(`${sim.url}/metrics`);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toContain(`vllm:num_requests_waiting{engine="0",model_name="${model}"} 0.0`);
    expect(text).toContain(`vllm:num_requests_running{engine="0",model_name="${model}"} 0.0`);
    expect(text).toMatch(/vllm:cache_config_info\{block_size="16",.*num_gpu_blocks="500",/);
    expect(text).toMatch(
      /vllm:lora_requests_info\{max_lora="2",running_lora_adapters="",waiting_lora_adapters=""\} \d/,
    );
    expect(gauge(text, "vllm:time_to_first_token_seconds_count")).toBeGreaterThan(0);
  });

  it("shows a long request as running and releases it when the client aborts", async () => {
    const slow = await startSimulator({ speedUp: 1 });
    try {
      const ac = new AbortController();
      const res = await fetch(`${slow.url}/v1/completions`, {
        method: "POST",
        body: JSON.stringify({ model, prompt: "long", max_tokens: 4000, stream: true }),
        signal: ac.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      const during = await (await fetch(`${slow.url}/metrics`)).text();
      expect(gauge(during, "vllm:num_requests_running")).toBe(1);
      expect(gauge(during, "vllm:kv_cache_usage_perc")).toBeGreaterThan(0);
      ac.abort();
      await reader.read().catch(() => undefined);
      let after = "";
      for (let i = 0; i < 50; i++) {
        after = await (await fetch(`${slow.url}/metrics`)).text();
        if (gauge(after, "vllm:num_requests_running") === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(gauge(after, "vllm:num_requests_running")).toBe(0);
      expect(gauge(after, "vllm:kv_cache_usage_perc")).toBe(0);
      expect(after).toContain(
        `vllm:request_success_total{engine="0",finished_reason="abort",model_name="${model}"} 1.0`,
      );
    } finally {
      await slow.close();
    }
  });

  it("serves fixed values set through PUT /admin/metrics until DELETE", async () => {
    const put = await fetch(`${sim.url}/admin/metrics`, {
      method: "PUT",
      body: JSON.stringify({
        waiting: 5,
        running: 2,
        kvCacheUsage: 0.75,
        runningLoras: ["a", "b"],
        waitingLoras: ["c"],
      }),
    });
    expect((await json(put)).mode).toBe("fixed");
    const text = await metrics();
    expect(text).toContain(`vllm:num_requests_waiting{engine="0",model_name="${model}"} 5.0`);
    expect(text).toContain(`vllm:num_requests_running{engine="0",model_name="${model}"} 2.0`);
    expect(text).toContain(`vllm:kv_cache_usage_perc{engine="0",model_name="${model}"} 0.75`);
    expect(text).toContain(
      'vllm:lora_requests_info{max_lora="2",running_lora_adapters="a,b",waiting_lora_adapters="c"}',
    );
    await fetch(`${sim.url}/admin/metrics`, { method: "PUT", body: JSON.stringify({ waiting: 1 }) });
    expect(gauge(await metrics(), "vllm:kv_cache_usage_perc")).toBe(0.75);
    expect(gauge(await metrics(), "vllm:num_requests_waiting")).toBe(1);
    await fetch(`${sim.url}/admin/metrics`, { method: "DELETE" });
    expect(gauge(await metrics(), "vllm:num_requests_waiting")).toBe(0);
  });

  it("rejects invalid fixed values", async () => {
    const res = await fetch(`${sim.url}/admin/metrics`, { method: "PUT", body: JSON.stringify({ kvCacheUsage: 2 }) });
    expect(res.status).toBe(400);
  });

  it.each([
    { fault: "error", check: async () => expect((await fetch(`${sim.url}/metrics`)).status).toBe(500) },
    {
      fault: "garbage",
      check: async () => expect(await (await fetch(`${sim.url}/metrics`)).text()).not.toContain("# TYPE"),
    },
    { fault: "close", check: async () => expect(fetch(`${sim.url}/metrics`)).rejects.toThrow() },
    {
      fault: "hang",
      check: async () => expect(fetch(`${sim.url}/metrics`, { signal: AbortSignal.timeout(200) })).rejects.toThrow(),
    },
  ])("injects the $fault fault on /metrics", async ({ fault, check }) => {
    await fetch(`${sim.url}/admin/metrics`, { method: "PUT", body: JSON.stringify({ fault }) });
    try {
      await check();
    } finally {
      await fetch(`${sim.url}/admin/metrics`, { method: "DELETE" });
    }
    expect((await fetch(`${sim.url}/metrics`)).status).toBe(200);
  });
});

describe("startSimulator() request record", () => {
  it("records received bodies and headers, and clears them", async () => {
    await fetch(`${sim.url}/debug/requests`, { method: "DELETE" });
    await post(
      "/v1/completions",
      { model, prompt: "recorded", max_tokens: 1 },
      { "x-gateway-destination-endpoint": "a:1" },
    );
    const { requests } = await json(await fetch(`${sim.url}/debug/requests`));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/completions",
      headers: { "x-gateway-destination-endpoint": "a:1" },
      body: { model, prompt: "recorded", max_tokens: 1 },
    });
  });
});

describe("startSimulator() scripted replies", () => {
  it("answers exactly the x-sim-reply text, streamed in 4-character tokens", async () => {
    const res = await fetch(`${sim.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-sim-reply": "key=AKIAIOSFODNN7EXAMPLE" },
      body: JSON.stringify({
        model: "meta-llama/Llama-3.1-8B-Instruct",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    const events = (await res.text()).split("\n\n").filter((e) => e.startsWith("data: {"));
    const deltas = events.map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? "");
    expect(deltas.join("")).toBe("key=AKIAIOSFODNN7EXAMPLE");
    expect(deltas.filter((d: string) => d.length > 0)[0]).toBe("key=");
    expect(JSON.parse(events.at(-1)!.slice(6)).choices[0].finish_reason).toBe("stop");
  });
});
