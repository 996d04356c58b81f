import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Confidence } from "../finding.js";
import type { AttackScore } from "./attack-model.js";

/** An asynchronous prompt-attack model (for example a local ONNX text classifier). */
export interface AsyncAttackModel {
  readonly id: string;
  /** Scores each text (one entry per input text, one score per attack kind the model knows). */
  score(texts: readonly string[]): Promise<AttackScore[][]>;
}

/** Options of {@link createTransformersAttackModel}. */
export interface TransformersModelOptions {
  /** Local model folder: config.json (with id2label), tokenizer.json, tokenizer_config.json, onnx/model.onnx. */
  readonly modelDir: string;
  /** Model labels per attack kind; a kind's score is the sum of its labels' probabilities. */
  readonly labels: Readonly<Record<AttackScore["kind"], readonly string[]>>;
  /** Score thresholds of the confidence levels. */
  readonly thresholds: Readonly<Record<Confidence, number>>;
  /** Use `onnx/model_quantized.onnx` instead of `onnx/model.onnx`. */
  readonly quantized: boolean;
  /** Texts are scored in windows of this many characters (max over windows), at most `maxWindows` of them. */
  readonly windowChars: number;
  readonly maxWindows: number;
}

type Classifier = (texts: string[], options: { top_k: number | null }) => Promise<{ label: string; score: number }[][]>;
interface TransformersModule {
  pipeline: (task: string, model: string, options?: Record<string, unknown>) => Promise<Classifier>;
  env: Record<string, unknown>;
}

/** Checks the model folder before loading it, so a wrong path fails with a clear message at startup. */
export function checkModelDir(options: Pick<TransformersModelOptions, "modelDir" | "quantized" | "labels">): string[] {
  const dir = options.modelDir;
  if (!existsSync(dir)) return [`model directory ${dir} does not exist`];
  if (!statSync(dir).isDirectory()) return [`model directory ${dir} is not a directory`];
  const onnx = options.quantized ? "onnx/model_quantized.onnx" : "onnx/model.onnx";
  const missing = ["config.json", "tokenizer.json", onnx].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    return [
      `model directory ${dir} lacks ${missing.join(", ")} (expected a Hugging Face text-classification export: config.json, tokenizer.json, tokenizer_config.json, ${onnx})`,
    ];
  }
  let id2label: Record<string, string> = {};
  try {
    id2label =
      (JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { id2label?: Record<string, string> }).id2label ??
      {};
  } catch (error) {
    return [`${join(dir, "config.json")} is not valid JSON: ${(error as Error).message}`];
  }
  const known = new Set(Object.values(id2label));
  const wanted = [...options.labels.injection, ...options.labels.jailbreak];
  if (!wanted.some((l) => known.has(l))) {
    return [
      `none of the configured labels (${wanted.join(", ")}) is in ${join(dir, "config.json")} id2label (${[...known].join(", ") || "empty"})`,
    ];
  }
  return [];
}

function confidenceOf(score: number, thresholds: TransformersModelOptions["thresholds"]): Confidence | undefined {
  if (score >= thresholds.HIGH) return "HIGH";
  if (score >= thresholds.MEDIUM) return "MEDIUM";
  if (score >= thresholds.LOW) return "LOW";
  return undefined;
}

/** One class of a text classifier's answer. */
export interface LabelScore {
  readonly label: string;
  readonly score: number;
}

/**
 * A text's attack scores from a classifier's per-window answers: a kind's score is the
 * sum of its labels' probabilities in a window, the highest window's counts, and the
 * thresholds turn it into a confidence. Shared by the local and the served models.
 */
export function attackScoresOf(
  windows: readonly (readonly LabelScore[])[],
  options: Pick<TransformersModelOptions, "labels" | "thresholds">,
): AttackScore[] {
  const kinds = Object.entries(options.labels) as [AttackScore["kind"], readonly string[]][];
  const best = new Map<AttackScore["kind"], number>();
  for (const labels of windows) {
    for (const [kind, names] of kinds) {
      const p = labels.filter((l) => names.includes(l.label)).reduce((sum, l) => sum + l.score, 0);
      best.set(kind, Math.max(best.get(kind) ?? 0, p));
    }
  }
  return kinds
    .filter(([, names]) => names.length > 0)
    .map(([kind]) => {
      const score = best.get(kind) ?? 0;
      return { kind, score, confidence: confidenceOf(score, options.thresholds), signatures: [] };
    });
}

/** Splits a text into at most `max` windows of `size` characters (head windows, then the tail). */
export function textWindows(text: string, size: number, max: number): string[] {
  if (text.length <= size) return [text];
  const windows: string[] = [];
  for (let start = 0; start < text.length && windows.length < max - 1; start += size)
    windows.push(text.slice(start, start + size));
  if (windows.length * size < text.length) windows.push(text.slice(-size));
  return windows;
}

/**
 * A prompt-attack detector backed by `@huggingface/transformers` text classification
 * over a local model folder (a Prompt Guard or DeBERTa prompt-injection ONNX
 * export). Nothing is downloaded: remote models are disabled. Loads once; each
 * text is scored window by window and a kind's score is the highest window's.
 */
export async function createTransformersAttackModel(options: TransformersModelOptions): Promise<AsyncAttackModel> {
  const problems = checkModelDir(options);
  if (problems.length > 0) throw new Error(`guardrail transformersModel: ${problems.join("; ")}`);
  let transformers: TransformersModule;
  try {
    const name = "@huggingface/transformers";
    transformers = (await import(name)) as TransformersModule;
  } catch (error) {
    throw new Error(
      "guardrail transformersModel needs the package @huggingface/transformers; install it or remove transformersModel from the config",
      { cause: error },
    );
  }
  transformers.env.allowRemoteModels = false;
  transformers.env.allowLocalModels = true;
  transformers.env.localModelPath = "";
  const classify = await transformers.pipeline("text-classification", options.modelDir, {
    // q8 loads onnx/model_quantized.onnx, fp32 onnx/model.onnx.
    dtype: options.quantized ? "q8" : "fp32",
  });
  return {
    id: `transformers:${options.modelDir}`,
    async score(texts) {
      const results: AttackScore[][] = [];
      for (const text of texts) {
        const windows: LabelScore[][] = [];
        for (const window of textWindows(text, options.windowChars, options.maxWindows)) {
          const [labels = []] = await classify([window], { top_k: null });
          windows.push(labels);
        }
        results.push(attackScoresOf(windows, options));
      }
      return results;
    },
  };
}
