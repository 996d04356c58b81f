/**
 * A contract server for the NVIDIA NeMo Guardrails server (Python, cannot run here),
 * reproducing `POST /v1/chat/completions` as its server code defines it, in both shapes:
 * classic `{ config_id, messages, options }` → `{ messages, log }` and OpenAI-style
 * `{ model, messages, guardrails: { config_id, options } }` → a chat completion with
 * `guardrails: { config_id, log }`. `options.rails` (a list of rail types) selects which
 * rails run and `options.log.activated_rails` returns them as `{ type, name, decisions,
 * executed_actions, stop, duration }`. Its configuration `callouts` has the input rail
 * "self check input" (stops on "build a bomb" or `zx-attack`), the input rail
 * "jailbreak detection heuristics" (stops on "DAN mode"), and the output rail
 * "self check output" (stops on `zx-leak`). A stopped input rail answers the refusal
 * "I'm sorry, I can't respond to that." An unknown config is a 422 with FastAPI's
 * `{ detail }`, as is a body without messages. `fault`: 500, 429 with `retry-after` (as a
 * fronting proxy or gateway answers; the server itself has no rate limit), hang, not JSON, a
 * closed socket.
 */
import { startJsonServer } from "@llm-callouts/remote/testing";

export type NemoFault = "none" | "internal" | "overloaded" | "hang" | "malformed" | "reset";

export interface NemoContractServer {
  readonly url: string;
  /** Added before every answer. */
  delayMs: number;
  fault: NemoFault;
  readonly calls: readonly {
    readonly shape: "classic" | "openai";
    readonly rails: readonly string[];
    readonly text: string;
  }[];
  close(): Promise<void>;
}

const rails = [
  { type: "input", name: "self check input", trips: /build a bomb|zx-attack/i },
  { type: "input", name: "jailbreak detection heuristics", trips: /DAN mode/ },
  { type: "output", name: "self check output", trips: /zx-leak/ },
] as const;

export async function startNemoContractServer(): Promise<NemoContractServer> {
  const calls: { shape: "classic" | "openai"; rails: string[]; text: string }[] = [];
  const server = await startJsonServer(async ({ req, res, body: raw, send }) => {
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") return send(404, { detail: "Not Found" });
    if (state.delayMs > 0) await new Promise((done) => setTimeout(done, state.delayMs));
    if (state.fault === "hang") return;
    if (state.fault === "internal") return send(500, { detail: "Internal Server Error" });
    if (state.fault === "reset") return req.socket.destroy();
    if (state.fault === "overloaded") {
      return send(429, { detail: "Too Many Requests" }, { "retry-after": "1" });
    }
    if (state.fault === "malformed") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end('{"messages": [');
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw);
    } catch {
      return send(422, { detail: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }] });
    }
    const guardrails = body.guardrails as Record<string, unknown> | undefined;
    const shape = guardrails ? "openai" : "classic";
    const configId = (guardrails ?? body).config_id;
    const options = ((guardrails ?? body).options ?? {}) as { rails?: unknown; log?: { activated_rails?: unknown } };
    const messages = body.messages as { role?: string; content?: unknown }[] | undefined;
    if (!Array.isArray(messages) || messages.length === 0) {
      return send(422, { detail: [{ loc: ["body", "messages"], msg: "Field required", type: "missing" }] });
    }
    if (shape === "openai" && typeof body.model !== "string") {
      return send(422, { detail: [{ loc: ["body", "model"], msg: "Field required", type: "missing" }] });
    }
    if (configId !== "callouts")
      return send(422, { detail: `Could not load the ${String(configId)} guardrails configuration.` });
    const types = Array.isArray(options.rails)
      ? (options.rails as string[])
      : ["input", "dialog", "retrieval", "output"];
    const last = messages.at(-1);
    const text = typeof last?.content === "string" ? last.content : "";
    calls.push({ shape, rails: types, text });
    const activated: Record<string, unknown>[] = [];
    let refused = false;
    for (const rail of rails) {
      if (!types.includes(rail.type) || refused) continue;
      const stop = rail.trips.test(text);
      activated.push({
        type: rail.type,
        name: rail.name,
        decisions: stop ? ["refuse to respond", "stop"] : ["execute self_check"],
        executed_actions: [],
        stop,
        duration: 0.012,
      });
      refused = stop;
    }
    const content = refused ? "I'm sorry, I can't respond to that." : text;
    const log = options.log?.activated_rails
      ? { activated_rails: activated, stats: { total_duration: 0.02 } }
      : undefined;
    if (shape === "classic") return send(200, { messages: [{ role: "assistant", content }], ...(log ? { log } : {}) });
    return send(200, {
      id: "chatcmpl-nemo",
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      guardrails: { config_id: configId, ...(log ? { log } : {}) },
    });
  });
  const state: NemoContractServer = {
    url: server.url,
    fault: "none",
    delayMs: 0,
    calls,
    close: () => server.close(),
  };
  return state;
}
