/**
 * A contract server for prompt-attack classifiers served over HTTP, as Text Embeddings
 * Inference and vLLM document them (neither can run here):
 * - TEI `POST /predict`: `{ inputs: string | [[string], ...], truncate? }` → for a batch,
 *   one `[{ label, score }, ...]` list per input, highest score first; errors
 *   `{ error, error_type }`: 413 validation (more than 32 inputs), 422 tokenizer (empty
 *   text), 424 backend, 429 overloaded.
 * - vLLM `POST /classify`: `{ model, input: string | string[] }` → `{ id, object: "list",
 *   created, model, data: [{ index, label, probs, num_classes }], usage }`; errors
 *   `{ object: "error", message, type, code }`: 400 for an empty input, 404 for another model.
 * The "model" has the classes BENIGN / INJECTION (TEI) or, in id order, BENIGN / MALICIOUS
 * (vLLM, Prompt Guard 2 style): a text containing `zx-attack` or "ignore previous
 * instructions" scores 0.99, anything else 0.02. With `apiKey` set, a request without that
 * bearer token gets 401 (TEI's `--api-key`, vLLM's `--api-key`). `fault` answers 429, 503,
 * hangs, sends a body that is not JSON, or closes the socket.
 */
import { startJsonServer } from "@llm-callouts/remote/testing";

export type ClassifierFault = "none" | "overloaded" | "unavailable" | "hang" | "malformed" | "reset";

export interface ServedClassifierContractServer {
  readonly url: string;
  readonly model: string;
  /** Added before every answer. */
  delayMs: number;
  fault: ClassifierFault;
  /** Bearer token required when set. */
  apiKey: string;
  /** Inputs per call so far. */
  readonly calls: readonly { readonly path: string; readonly inputs: number }[];
  close(): Promise<void>;
}

const attackScore = (text: string) => (/zx-attack|ignore previous instructions/i.test(text) ? 0.99 : 0.02);

export async function startServedClassifierContractServer(model = "meta-llama/Llama-Prompt-Guard-2-86M") {
  const calls: { path: string; inputs: number }[] = [];
  const server = await startJsonServer(async ({ req, res, body, send }) => {
    if (state.delayMs > 0) await new Promise((done) => setTimeout(done, state.delayMs));
    if (state.fault === "hang") return;
    if (state.fault === "reset") return req.socket.destroy();
    if (state.apiKey !== "" && req.headers.authorization !== `Bearer ${state.apiKey}`) {
      return send(
        401,
        req.url === "/classify"
          ? { object: "error", message: "Unauthorized", type: "Unauthorized", code: 401 }
          : { error: "Unauthorized", error_type: "unauthorized" },
      );
    }
    if (state.fault === "malformed") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end("[[{");
    }
    let request: { inputs?: unknown; input?: unknown; model?: unknown };
    try {
      request = JSON.parse(body);
    } catch {
      return send(422, { error: "Failed to parse the request body as JSON", error_type: "validation" });
    }
    if (req.method === "POST" && req.url === "/predict") {
      if (state.fault === "overloaded") return send(429, { error: "Model is overloaded", error_type: "overloaded" });
      if (state.fault === "unavailable") return send(424, { error: "Inference failed", error_type: "backend" });
      const inputs = typeof request.inputs === "string" ? [[request.inputs]] : request.inputs;
      if (!Array.isArray(inputs) || inputs.some((i) => !Array.isArray(i) || typeof i[0] !== "string")) {
        return send(422, { error: "inputs must be a string or a batch of [string]", error_type: "validation" });
      }
      if (inputs.length > 32)
        return send(413, { error: "batch size 33 > maximum allowed batch size 32", error_type: "validation" });
      if (inputs.some((i) => (i[0] as string).length === 0))
        return send(422, { error: "`inputs` cannot be empty", error_type: "tokenizer" });
      calls.push({ path: "/predict", inputs: inputs.length });
      return send(
        200,
        inputs.map(([text]) => {
          const p = attackScore(text as string);
          return [
            { label: p > 0.5 ? "INJECTION" : "BENIGN", score: Math.max(p, 1 - p) },
            { label: p > 0.5 ? "BENIGN" : "INJECTION", score: Math.min(p, 1 - p) },
          ];
        }),
      );
    }
    if (req.method === "POST" && req.url === "/classify") {
      const error = (status: number, message: string, type: string) =>
        send(status, { object: "error", message, type, code: status });
      if (state.fault === "overloaded") return error(429, "Too many requests", "TooManyRequests");
      if (state.fault === "unavailable") return error(503, "The engine is not ready", "ServiceUnavailableError");
      if (request.model !== undefined && request.model !== model)
        return error(404, `The model \`${String(request.model)}\` does not exist.`, "NotFoundError");
      const inputs = typeof request.input === "string" ? [request.input] : request.input;
      if (!Array.isArray(inputs) || inputs.length === 0 || inputs.some((t) => typeof t !== "string" || t === "")) {
        return error(400, "Input cannot be empty for classification", "BadRequestError");
      }
      calls.push({ path: "/classify", inputs: inputs.length });
      return send(200, {
        id: `classify-${calls.length}`,
        object: "list",
        created: Math.floor(Date.now() / 1000),
        model,
        data: inputs.map((text: string, index) => {
          const p = attackScore(text);
          return { index, label: p > 0.5 ? "MALICIOUS" : "BENIGN", probs: [1 - p, p], num_classes: 2 };
        }),
        usage: { prompt_tokens: 10, total_tokens: 10, completion_tokens: 0, prompt_tokens_details: null },
      });
    }
    send(404, { error: "not found", error_type: "validation" });
  });
  const state: ServedClassifierContractServer = {
    url: server.url,
    model,
    fault: "none",
    apiKey: "",
    delayMs: 0,
    calls,
    close: () => server.close(),
  };
  return state;
}
