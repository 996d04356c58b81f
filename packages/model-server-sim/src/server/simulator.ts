/**
 * The HTTP face of the simulator: vLLM's OpenAI-compatible endpoints, dynamic
 * LoRA loading, `/metrics`, plus test hooks (`/debug/requests`, `/admin/metrics`).
 * One engine model per server, driven in real time (scaled by `speedUp`).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createEngine, type Engine } from "../engine/engine.js";
import { outputTokenText, tokenize } from "../engine/tokenizer.js";
import {
  engineConfigOf,
  type FixedMetrics,
  fixedMetricsPatchSchema,
  fixedMetricsSchema,
  type SimConfig,
  type SimConfigInput,
  simConfigSchema,
} from "./config.js";
import { embeddingsResponse } from "./embeddings.js";
import { createLoraRegistry, type LoraResult } from "./lora-registry.js";
import { renderVllmMetrics } from "./metrics-text.js";
import {
  type ApiError,
  errorBody,
  fullResponse,
  parseRequest,
  type ResponseMeta,
  sse,
  sseDone,
  streamChunk,
  usageChunk,
  usageOf,
} from "./openai.js";
import { createRealtimeEngine } from "./realtime-engine.js";

/** One request as `GET /debug/requests` reports it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Parsed JSON body, or the raw text when it is not JSON (empty string for no body). */
  readonly body: unknown;
  /** Wall-clock receive time, ms since the epoch. */
  readonly receivedAtMs: number;
}

/** A running simulator. */
export interface SimulatorHandle {
  /** `http://host:port`. */
  readonly url: string;
  /** `[url]`, for symmetry with pools. */
  readonly urls: readonly string[];
  readonly port: number;
  /** The engine model (for white-box tests). */
  readonly engine: Engine;
  close(): Promise<void>;
}

const maxBodyBytes = 32 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBodyBytes) {
        reject(new Error("body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
};
const text = (res: ServerResponse, status: number, body: string, contentType = "text/plain; charset=utf-8") => {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
};
const apiError = (res: ServerResponse, e: ApiError) => json(res, e.status, errorBody(e));

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function seedOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Starts one simulated vLLM server; resolves once it listens. */
export async function startSimulator(input: SimConfigInput = {}): Promise<SimulatorHandle> {
  const config: SimConfig = simConfigSchema.parse(input);
  const engineConfig = engineConfigOf(config);
  const engine = createEngine(engineConfig);
  const rt = createRealtimeEngine({ engine, speedUp: config.speedUp });
  const loras = createLoraRegistry(config.model, config.loras);
  let metricsMode = config.metricsMode;
  let fixed: FixedMetrics = config.fixedMetrics;
  const recorded: RecordedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const createdS = Math.floor(Date.now() / 1000);
  let seq = 0;
  let servedBy = "";

  function record(req: IncomingMessage, path: string, raw: string) {
    if (config.maxRecordedRequests === 0) return;
    recorded.push({
      method: req.method ?? "",
      path,
      headers: { ...req.headers },
      body: parseJson(raw),
      receivedAtMs: Date.now(),
    });
    if (recorded.length > config.maxRecordedRequests) recorded.shift();
  }

  function metricsText(): string {
    const s = engine.snapshot();
    const c = engine.counters();
    const live = metricsMode === "engine";
    return renderVllmMetrics({
      modelName: config.model,
      waiting: live ? s.waiting : fixed.waiting,
      running: live ? s.running : fixed.running,
      kvCacheUsage: live ? s.kvCacheUsage : fixed.kvCacheUsage,
      runningLoras: live ? s.runningLoras : fixed.runningLoras,
      waitingLoras: live ? s.waitingLoras : fixed.waitingLoras,
      maxLoras: s.maxLoras,
      loraInfoTimestampS: Date.now() / 1000,
      blockSize: s.blockSize,
      numGpuBlocks: s.numGpuBlocks,
      enablePrefixCaching: engineConfig.enablePrefixCaching,
      promptTokens: c.promptTokens,
      generationTokens: c.generationTokens,
      prefixQueryTokens: c.prefixQueryTokens,
      prefixHitTokens: c.prefixHitTokens,
      preemptions: c.preemptions,
      successByReason: rt.successByReason(),
      ttft: rt.ttft,
      itl: rt.itl,
      e2e: rt.e2e,
    });
  }

  function serveMetrics(req: IncomingMessage, res: ServerResponse) {
    const fault = metricsMode === "fixed" ? fixed.fault : "none";
    if (fault === "hang") {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (fault === "close") {
      req.socket.destroy();
      return;
    }
    if (fault === "error") return text(res, 500, "Internal Server Error");
    if (fault === "garbage") return text(res, 200, "vllm:num_requests_waiting{{{ not prometheus\n\x00\x01garbage");
    text(res, 200, metricsText(), "text/plain; version=0.0.4; charset=utf-8");
  }

  function completion(kind: "chat" | "completion", raw: string, req: IncomingMessage, res: ServerResponse) {
    const parsed = parseRequest(kind, raw, config.defaultMaxTokens);
    if ("error" in parsed) return apiError(res, parsed.error);
    // Test hook: `x-sim-reply` makes the replica answer exactly this text (4 characters per
    // token, finish_reason "stop"), so tests can script an answer (e.g. one carrying a secret).
    const scripted = scriptedReply(req.headers["x-sim-reply"]);
    const p = scripted ? { ...parsed.value, maxTokens: scripted.length, finishReason: "stop" as const } : parsed.value;
    const isBase = p.model === config.model;
    if (!isBase && !loras.has(p.model)) {
      return apiError(res, {
        status: 404,
        type: "NotFoundError",
        message: `The model \`${p.model}\` does not exist.`,
        param: "model",
      });
    }
    const promptTokenIds = tokenize(p.promptText);
    if (promptTokenIds.length + p.maxTokens > config.maxModelLen) {
      return apiError(res, {
        status: 400,
        type: "BadRequestError",
        message: `This model's maximum context length is ${config.maxModelLen} tokens. However, you requested ${promptTokenIds.length + p.maxTokens} tokens (${promptTokenIds.length} in the messages, ${p.maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      });
    }
    const blocksNeeded = Math.ceil((promptTokenIds.length + p.maxTokens) / engineConfig.blockSize);
    if (blocksNeeded > engineConfig.numGpuBlocks) {
      // vLLM refuses to start when max_model_len exceeds the KV cache; a request that can never fit would hang here.
      return apiError(res, {
        status: 400,
        type: "BadRequestError",
        message: `Request needs ${blocksNeeded} KV blocks but the cache has ${engineConfig.numGpuBlocks}.`,
      });
    }
    const meta: ResponseMeta = {
      id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID().replace(/-/g, "")}`,
      created: Math.floor(Date.now() / 1000),
      model: p.model,
    };
    const seed = seedOf(meta.id);
    // vLLM echoes X-Request-Id with --enable-request-id-headers; we always do.
    const requestId = req.headers["x-request-id"];
    const replyHeaders: Record<string, string> = {
      "x-sim-served-by": servedBy,
      ...(typeof requestId === "string" ? { "x-request-id": requestId } : {}),
    };
    const pieces: string[] = [];
    let done = false;
    if (p.stream) {
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        ...replyHeaders,
      });
      if (kind === "chat") res.write(sse(streamChunk(kind, meta, { role: "assistant", text: "" }, null)));
    }
    const abort = rt.submit(
      { id: `req-${seq++}`, promptTokenIds, maxTokens: p.maxTokens, lora: isBase ? undefined : p.model },
      p.finishReason,
      (t) => {
        const piece = scripted ? (scripted[t.index] ?? "") : outputTokenText(seed, t.index);
        const finish = t.finished ? p.finishReason : null;
        if (p.stream) res.write(sse(streamChunk(kind, meta, { text: piece }, finish)));
        else pieces.push(piece);
        if (!t.finished) return;
        done = true;
        const usage = usageOf(promptTokenIds.length, t.index + 1, t.cachedPromptTokens);
        if (p.stream) {
          if (p.includeUsage) res.write(sse(usageChunk(kind, meta, usage)));
          res.end(sseDone);
        } else {
          json(res, 200, fullResponse(kind, meta, pieces.join(""), p.finishReason, usage), replyHeaders);
        }
      },
    );
    res.on("close", () => {
      if (!done) abort();
    });
  }

  function lora(result: LoraResult, res: ServerResponse) {
    if ("error" in result) apiError(res, result.error);
    else text(res, 200, result.text);
  }

  function models(res: ServerResponse) {
    const entry = (id: string, root: string, parent: string | null) => ({
      id,
      object: "model",
      created: createdS,
      owned_by: "vllm",
      root,
      parent,
      max_model_len: parent ? null : config.maxModelLen,
    });
    json(res, 200, {
      object: "list",
      data: [
        entry(config.model, config.model, null),
        ...loras.list().map(([name, path]) => entry(name, path, config.model)),
      ],
    });
  }

  function adminMetrics(method: string, raw: string, res: ServerResponse) {
    if (method === "DELETE") {
      metricsMode = "engine";
      fixed = fixedMetricsSchema.parse({});
      return json(res, 200, { mode: metricsMode, fixed });
    }
    if (method === "PUT") {
      const parsed = fixedMetricsPatchSchema.safeParse(parseJson(raw));
      if (!parsed.success) {
        return apiError(res, {
          status: 400,
          type: "BadRequestError",
          message: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
        });
      }
      const patch = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
      fixed = { ...fixed, ...patch };
      metricsMode = "fixed";
    }
    json(res, 200, { mode: metricsMode, fixed });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0]!;
    const raw = method === "GET" || method === "HEAD" ? "" : await readBody(req);
    const internal = path === "/metrics" || path.startsWith("/debug/") || path.startsWith("/admin/");
    if (!internal) record(req, path, raw);
    const route = `${method} ${path}`;
    switch (route) {
      case "GET /health":
        return text(res, 200, "");
      case "GET /version":
        return json(res, 200, { version: "0.11.0+llm-callouts-sim" });
      case "GET /v1/models":
        return models(res);
      case "POST /v1/chat/completions":
        return completion("chat", raw, req, res);
      case "POST /v1/completions":
        return completion("completion", raw, req, res);
      case "POST /v1/embeddings": {
        const answer = embeddingsResponse(parseJson(raw));
        if (answer.status === 400) {
          return apiError(res, { status: 400, type: "BadRequestError", message: answer.message, param: "input" });
        }
        return json(res, 200, answer.body);
      }
      case "POST /v1/load_lora_adapter":
        return lora(loras.load(parseJson(raw)), res);
      case "POST /v1/unload_lora_adapter":
        return lora(loras.unload(parseJson(raw)), res);
      case "GET /metrics":
        return serveMetrics(req, res);
      case "GET /debug/requests":
        return json(res, 200, { requests: recorded });
      case "DELETE /debug/requests":
        recorded.length = 0;
        return json(res, 200, { requests: [] });
      case "GET /admin/metrics":
      case "PUT /admin/metrics":
      case "DELETE /admin/metrics":
        return adminMetrics(method, raw, res);
      default:
        return json(res, 404, { detail: "Not Found" });
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) apiError(res, { status: 400, type: "BadRequestError", message: (e as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = config.host.includes(":") ? `[${config.host}]` : config.host;
  servedBy = `${hostPart}:${port}`;
  const url = `http://${servedBy}`;
  return {
    url,
    urls: [url],
    port,
    engine,
    close: () =>
      new Promise<void>((resolve) => {
        rt.close();
        for (const r of hanging) r.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Splits a scripted reply into 4-character tokens (the simulator's tokenizer granularity). */
export function scriptedReply(header: string | string[] | undefined): string[] | undefined {
  const text = Array.isArray(header) ? header.join(",") : header;
  if (text === undefined || text.length === 0) return undefined;
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 4) pieces.push(text.slice(i, i + 4));
  return pieces;
}
