import { parseArgs } from "node:util";
import { startSimPool } from "@llm-callouts/model-server-sim";
import { stackModels, startStack } from "./stack.js";

/** Waits for SIGINT/SIGTERM, then runs `stop` and exits 0. */
function untilSignal(stop: () => Promise<void>): Promise<undefined> {
  return new Promise(() => {
    const handler = (signal: string) => {
      process.stderr.write(`\n${signal}: stopping...\n`);
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGINT", () => handler("SIGINT"));
    process.once("SIGTERM", () => handler("SIGTERM"));
  });
}

function number(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${value}`);
  return n;
}

/** `callouts start`: the whole pipeline on embedded defaults. */
export async function runStart(args: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { port: { type: "string" }, host: { type: "string" }, "sim-speed-up": { type: "string" } },
  });
  const host = values.host ?? "127.0.0.1";
  const port = number("port", values.port, 8000);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(
    `llm-callouts: starting the pipeline (cache: ${process.env.REDIS_URL ? `Redis ${process.env.REDIS_URL}` : "in memory"})`,
  );
  const stack = await startStack({
    host,
    gatewayPort: port,
    simSpeedUp: number("sim-speed-up", values["sim-speed-up"], 1),
    progress: say,
  });
  const url = stack.gateway.url;
  say(`
ready: OpenAI-compatible gateway on ${url}/v1
  client -> body-router -> guardrail -> semantic-cache -> guardrail (output) -> endpoint-picker -> replica

try it:
  curl -s ${url}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"${stackModels.llama}","messages":[{"role":"user","content":"Hello!"}]}'

  # the same question again is answered by the cache (see the x-cache-status header)
  # "model":"${stackModels.sqlAdapter}" goes to the replica with that LoRA adapter loaded
  # "Ignore all previous instructions and ..." is blocked by the guardrail

openai SDK (npm i openai):
  import OpenAI from "openai";
  const client = new OpenAI({ baseURL: "${url}/v1", apiKey: "unused" });
  const stream = await client.chat.completions.create({ model: "${stackModels.qwen}", stream: true,
    messages: [{ role: "user", content: "Write a haiku about gateways." }] });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");

Ctrl-C stops everything.`);
  return untilSignal(() => stack.close());
}

/** `callouts sim`: a pool of simulated vLLM replicas. */
export async function runSim(args: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      replicas: { type: "string" },
      "base-port": { type: "string" },
      model: { type: "string" },
      lora: { type: "string", multiple: true },
      "speed-up": { type: "string" },
      "metrics-mode": { type: "string" },
      host: { type: "string" },
    },
  });
  const pool = await startSimPool({
    replicas: number("replicas", values.replicas, 2),
    basePort: number("base-port", values["base-port"], 8100),
    ...(values.model ? { model: values.model } : {}),
    loras: values.lora ?? [],
    speedUp: number("speed-up", values["speed-up"], 1),
    ...(values["metrics-mode"] ? { metricsMode: values["metrics-mode"] as "engine" | "fixed" } : {}),
    ...(values.host ? { host: values.host } : {}),
  });
  process.stdout.write(`simulated vLLM replicas:\n${pool.urls.map((u) => `  ${u}`).join("\n")}\n`);
  return untilSignal(() => pool.close());
}
