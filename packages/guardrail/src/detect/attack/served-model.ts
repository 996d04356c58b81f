/**
 * A prompt-attack classifier served next to the models (Prompt Guard 2, a DeBERTa
 * prompt-injection model): Hugging Face Text Embeddings Inference's `POST /predict`
 * (`{ inputs: [[text], ...], truncate: true }` → one `[{ label, score }]` list per input)
 * or vLLM's `POST /classify` (`{ model, input: [...] }` → `data[i].probs`, in the order of
 * `classLabels`). Every window of every text goes in one call; label mapping, thresholds
 * and windows are those of the local transformers option (`attackScoresOf`). One
 * deadline per call, a circuit breaker, answers read with a size cap; a failure makes
 * the model pass fail, which the engine handles by the template's `failMode`.
 */
import { type CircuitBreaker, parseJson, readCapped } from "@llm-callouts/remote";
import type { Confidence } from "../finding.js";
import type { AttackScore } from "./attack-model.js";
import { type AsyncAttackModel, attackScoresOf, type LabelScore, textWindows } from "./transformers-model.js";

export interface ServedModelOptions {
  readonly kind: "tei" | "vllm";
  /** Base URL: TEI's root (`/predict` is appended), vLLM's root (`/classify`). */
  readonly url: string;
  /** vLLM: the served model name. */
  readonly model?: string;
  /** Sent as `authorization: Bearer <apiKey>` when set. Never logged. */
  readonly apiKey?: string;
  readonly labels: Readonly<Record<AttackScore["kind"], readonly string[]>>;
  readonly thresholds: Readonly<Record<Confidence, number>>;
  /** vLLM: class names in the model's id order (its `probs` carry no names). */
  readonly classLabels?: readonly string[];
  readonly windowChars: number;
  readonly maxWindows: number;
  readonly timeoutMs: number;
  readonly breaker?: CircuitBreaker;
}

const maxAnswerBytes = 8 * 1024 * 1024;

export function createServedAttackModel(options: ServedModelOptions): AsyncAttackModel {
  const base = options.url.replace(/\/+$/, "");
  const endpoint = options.kind === "tei" ? `${base}/predict` : `${base}/classify`;
  if (options.kind === "vllm" && !options.classLabels?.length) {
    throw new Error("servedModel kind vllm needs classLabels (the model's class names in id order)");
  }
  const classify = async (windows: readonly string[]): Promise<LabelScore[][]> => {
    const body =
      options.kind === "tei"
        ? { inputs: windows.map((w) => [w]), truncate: true }
        : { ...(options.model ? { model: options.model } : {}), input: windows };
    const response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const raw = await readCapped(response, maxAnswerBytes, "classifier answer");
    if (!response.ok) throw new Error(`classifier answered ${response.status}`);
    const answer = parseJson(raw, "classifier answer");
    return options.kind === "tei" ? teiLabels(answer, windows.length) : vllmLabels(answer, windows.length, options);
  };
  return {
    id: `${options.kind}:${endpoint}`,
    async score(texts) {
      if (options.breaker && !options.breaker.allow()) throw new Error("circuit open");
      const windows = texts.map((t) => textWindows(t, options.windowChars, options.maxWindows));
      try {
        const labels = await classify(windows.flat());
        options.breaker?.success();
        let at = 0;
        return windows.map((w) => {
          const mine = labels.slice(at, at + w.length);
          at += w.length;
          return attackScoresOf(mine, options);
        });
      } catch (error) {
        options.breaker?.failure();
        const name = (error as Error).name;
        throw new Error(
          name === "TimeoutError" || name === "AbortError" ? "deadline exceeded" : (error as Error).message,
        );
      }
    },
  };
}

const isLabelScore = (v: unknown): v is LabelScore =>
  typeof (v as LabelScore)?.label === "string" && Number.isFinite((v as LabelScore)?.score);

/** TEI: a batch answers `[[{label, score}, ...], ...]`, one list per input. */
function teiLabels(answer: unknown, count: number): LabelScore[][] {
  if (
    !Array.isArray(answer) ||
    answer.length !== count ||
    !answer.every((l) => Array.isArray(l) && l.every(isLabelScore))
  )
    throw new Error("classifier answer is not TEI's prediction lists");
  return answer as LabelScore[][];
}

/** vLLM: `data[i] = { index, label, probs, num_classes }`; names come from `classLabels`. */
function vllmLabels(answer: unknown, count: number, options: ServedModelOptions): LabelScore[][] {
  const data = (answer as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length !== count) throw new Error("classifier answer has no data for every input");
  const names = options.classLabels as readonly string[];
  const out: LabelScore[][] = new Array(count);
  for (const item of data as { index?: unknown; probs?: unknown }[]) {
    const index = Number(item?.index);
    const probs = item?.probs;
    if (
      !Number.isInteger(index) ||
      index < 0 ||
      index >= count ||
      !Array.isArray(probs) ||
      probs.length !== names.length
    )
      throw new Error("classifier answer has a malformed item");
    if (!probs.every((p) => Number.isFinite(p))) throw new Error("classifier answer has a non-number");
    out[index] = probs.map((score: number, i) => ({ label: names[i] as string, score }));
  }
  if (out.some((l) => l === undefined)) throw new Error("classifier answer skips an input");
  return out;
}
