import { parseArgs } from "node:util";
import { numberFlag, parseCommandArgs, UsageError, usageFromIssues } from "./args.js";

// `start` and `sim` load the gateway, the simulator and every service on demand: an image built
// for one callout (scripts/deploy-service.sh) carries only `serve`'s dependencies.

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

export const startUsage = `usage: callouts start [options]   the whole pipeline on embedded defaults
  --port N          gateway port (default 8000)
  --host ADDR       bind address (default 127.0.0.1)
  --sim-speed-up X  run the simulated replicas X times faster (default 1)
  REDIS_URL switches the semantic cache from memory to Redis
`;

export const simUsage = `usage: callouts sim [options]   a pool of simulated vLLM replicas
  --replicas N (default 2)  --base-port P (default 8100)  --model NAME  --lora NAME (repeatable)
  --speed-up X (default 1)  --metrics-mode engine|fixed  --host ADDR
`;

/** `callouts start`: the whole pipeline on embedded defaults. */
export async function runStart(args: string[]): Promise<number | undefined> {
  const { values } = parseCommandArgs("start", args, () =>
    parseArgs({
      args,
      strict: true,
      options: { port: { type: "string" }, host: { type: "string" }, "sim-speed-up": { type: "string" } },
    }),
  );
  const host = values.host ?? "127.0.0.1";
  const port = numberFlag("start", "port", values.port, 8000);
  const simSpeedUp = numberFlag("start", "sim-speed-up", values["sim-speed-up"], 1);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(
    `llm-callouts: starting the pipeline (cache: ${process.env.REDIS_URL ? `Redis ${process.env.REDIS_URL}` : "in memory"})`,
  );
  const { stackModels, startStack } = await import("./stack.js");
  const stack = await startStack({
    host,
    gatewayPort: port,
    simSpeedUp,
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
  const { values } = parseCommandArgs("sim", args, () =>
    parseArgs({
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
    }),
  );
  const mode = values["metrics-mode"];
  if (mode !== undefined && mode !== "engine" && mode !== "fixed") {
    throw new UsageError(`--metrics-mode must be engine or fixed, got ${JSON.stringify(mode)}`, "sim");
  }
  const input = {
    replicas: numberFlag("sim", "replicas", values.replicas, 2),
    basePort: numberFlag("sim", "base-port", values["base-port"], 8100),
    ...(values.model ? { model: values.model } : {}),
    loras: values.lora ?? [],
    speedUp: numberFlag("sim", "speed-up", values["speed-up"], 1),
    ...(mode ? { metricsMode: mode as "engine" | "fixed" } : {}),
    ...(values.host ? { host: values.host } : {}),
  };
  const { startSimPool } = await import("@llm-callouts/model-server-sim");
  let pool: Awaited<ReturnType<typeof startSimPool>>;
  try {
    pool = await startSimPool(input);
  } catch (error) {
    throw usageFromIssues("sim", error) ?? error;
  }
  process.stdout.write(`simulated vLLM replicas:\n${pool.urls.map((u) => `  ${u}`).join("\n")}\n`);
  return untilSignal(() => pool.close());
}
