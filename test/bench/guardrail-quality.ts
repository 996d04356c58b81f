/**
 * Prompt-injection and jailbreak quality with nested, stratified 5-fold
 * cross-validation on the shared training sets: each outer fold is scored by a
 * model trained on the other four, with the decision threshold chosen by an
 * inner 4-fold CV on those four only. No row is ever scored by a model (or a
 * threshold) that saw it. Also reports the curated signatures alone (a regex
 * baseline), the published baselines, and false-positive rates on ordinary
 * prompts never used in training: the generated "everyday" eval split
 * (imperative tasks, role requests, code, German; different seed, templates and
 * vocabulary from the training split) and held-out QQP / PII-set sentences,
 * both for the CV models and for the shipped weights through the default policy.
 *
 *   node --import tsx test/bench/guardrail-quality.ts [dataDir]
 */
import { resolve } from "node:path";
import { confusion, pickThreshold } from "@llm-callouts/learn";
import { everydaySizes, loadAttackTasks, ordinaryPrompts } from "../../packages/guardrail/scripts/attack-tasks.js";
import { generateEverydayPrompts } from "../../packages/guardrail/scripts/everyday-prompts.js";
import { guardrailConfigSchema } from "../../packages/guardrail/src/config.js";
import {
  assignFolds,
  combinedScore,
  featurise,
  outOfFoldScores,
  trainOn,
} from "../../packages/guardrail/src/detect/attack/cross-validate.js";
import type { SparseVector } from "../../packages/guardrail/src/detect/attack/features.js";
import { matchSignatures } from "../../packages/guardrail/src/detect/attack/signatures.js";
import { createGuardrail } from "../../packages/guardrail/src/guardrail.js";
import { createPlaceholderRegistry } from "../../packages/guardrail/src/policy/placeholders.js";

const dataDir = resolve(process.argv[2] ?? "../shared/data");
const tasks = loadAttackTasks(dataDir);
const everydayEval = generateEverydayPrompts("eval", everydaySizes.eval);
const heldOutOrdinary = ordinaryPrompts(dataDir).heldOut;
// Real, human-written benign prompts (role-play, instruction-dataset tasks): never trained on by the
// injection model; the jailbreak model's flags on them come from its own out-of-fold CV decisions.
const jailbreakTask = tasks.find((t) => t.name === "jailbreak");
const jackhhaoBenign = (jailbreakTask?.rows ?? []).flatMap((r, i) => (r.positive ? [] : [{ text: r.text, row: i }]));
const benignSets = [
  { name: `everyday eval split (${everydayEval.length}, generated, never trained on)`, texts: everydayEval },
  { name: `held-out QQP + PII-set sentences (${heldOutOrdinary.length})`, texts: heldOutOrdinary },
  {
    name: `jackhhao benign prompts (${jackhhaoBenign.length}, human-written; jailbreak column out-of-fold)`,
    texts: jackhhaoBenign.map((b) => b.text),
    jailbreakRows: jackhhaoBenign.map((b) => b.row),
  },
].map((s) => ({ ...s, xs: featurise(s.texts.map((text) => ({ text, positive: false }))) }));

const meta: Record<string, { target: string; published: string; label: string }> = {
  injection: {
    label: "injection (deepset)",
    target: "recall >= 0.80 at precision >= 0.95",
    published: "regex baseline recall 0.25",
  },
  jailbreak: {
    label: "jailbreak (jackhhao)",
    target: "recall >= 0.90 at FPR <= 0.03",
    published: "regex baseline recall 0.82 at FPR 0.089",
  },
};

const f3 = (n: number): string => n.toFixed(3);
const K = 5;
console.log("Prompt-attack quality, nested stratified 5-fold CV (inner 4-fold for thresholds), seed 7\n");
console.log("| data set | rows | method | threshold | precision | recall | FPR | target | published |");
console.log("|---|---:|---|---:|---:|---:|---:|---|---|");
// flagged[set][level][fold] = per-prompt flags of the outer-fold models, to report each task and their union.
type Flags = boolean[][];
const flagged = new Map<string, Flags>();
const flagsFor = (set: string, level: string, task: string): Flags => {
  const key = `${set}|${level}|${task}`;
  let flags = flagged.get(key);
  if (!flags) {
    flags = [];
    flagged.set(key, flags);
  }
  return flags;
};
for (const task of tasks) {
  const t0 = Date.now();
  const xs: SparseVector[] = featurise(task.rows);
  const labels = task.rows.map((r) => r.positive);
  const outer = assignFolds(task.rows, K, 7);
  const decisions = {
    MEDIUM: new Array<boolean>(task.rows.length).fill(false),
    HIGH: new Array<boolean>(task.rows.length).fill(false),
  };
  const thresholds = { MEDIUM: [] as number[], HIGH: [] as number[] };
  for (let f = 0; f < K; f++) {
    const train = task.rows.map((_, i) => i).filter((i) => outer[i] !== f);
    const inner = outOfFoldScores(xs, task.rows, train, 4, 11 + f, task.extra, task.minWords, task.tailWindows);
    const model = trainOn(xs, task.rows, train, task.extra);
    for (const level of ["MEDIUM", "HIGH"] as const) {
      const threshold = pickThreshold(
        train.map((i) => inner.get(i) as number),
        train.map((i) => labels[i] as boolean),
        task.levels[level],
      );
      thresholds[level].push(threshold);
      for (const set of benignSets) {
        if (set.jailbreakRows && task.name === "jailbreak") continue;
        flagsFor(set.name, level, task.name).push(
          set.xs.map(
            (x, n) => combinedScore(model, x, set.texts[n] as string, task.minWords, task.tailWindows) >= threshold,
          ),
        );
      }
      task.rows.forEach((row, i) => {
        if (outer[i] === f)
          decisions[level][i] =
            combinedScore(model, xs[i] as SparseVector, row.text, task.minWords, task.tailWindows) >= threshold;
      });
    }
  }
  for (const set of benignSets) {
    if (!set.jailbreakRows || task.name !== "jailbreak") continue;
    const rows = set.jailbreakRows;
    for (const level of ["MEDIUM", "HIGH"] as const) {
      const oof = rows.map((row) => decisions[level][row] as boolean);
      for (let f = 0; f < K; f++) flagsFor(set.name, level, task.name).push(oof);
    }
  }
  const m = meta[task.name] as (typeof meta)[string];
  for (const level of ["MEDIUM", "HIGH"] as const) {
    const c = confusion(
      decisions[level].map((d) => (d ? 1 : 0)),
      labels,
      1,
    );
    const rule = task.levels[level];
    const ruleText = "maxFpr" in rule ? `FPR <= ${rule.maxFpr}` : `precision >= ${rule.minPrecision}`;
    const mean = thresholds[level].reduce((a, b) => a + b, 0) / K;
    console.log(
      `| ${m.label} | ${task.rows.length} | classifier + signatures, ${level} level (${ruleText} on inner CV)${level === "MEDIUM" ? " = default" : ""} | ${f3(mean)} (mean) | ${f3(c.precision)} | ${f3(c.recall)} | ${f3(c.fpr)} | ${level === "MEDIUM" ? m.target : ""} | ${level === "MEDIUM" ? m.published : ""} |`,
    );
  }
  const sig = confusion(
    task.rows.map((r) => (matchSignatures(r.text).length > 0 ? 1 : 0)),
    labels,
    1,
  );
  console.log(
    `| ${m.label} | ${task.rows.length} | signatures only | - | ${f3(sig.precision)} | ${f3(sig.recall)} | ${f3(sig.fpr)} | | |`,
  );
  console.error(`${task.name}: ${Date.now() - t0} ms`);
}

console.log("\nFalse-positive rate on ordinary prompts never trained on, mean over the 5 outer-fold models:\n");
console.log("| prompts | level | injection | jailbreak | either kind (what a template at that level blocks) |");
console.log("|---|---|---:|---:|---:|");
for (const set of benignSets) {
  for (const level of ["MEDIUM", "HIGH"]) {
    const rate = (folds: Flags) =>
      folds.reduce((n, flags) => n + flags.filter(Boolean).length, 0) / (K * set.texts.length);
    const inj = flagsFor(set.name, level, "injection");
    const jb = flagsFor(set.name, level, "jailbreak");
    const either = inj.map((flags, f) => flags.map((v, n) => v || (jb[f]?.[n] ?? false)));
    console.log(`| ${set.name} | ${level} | ${f3(rate(inj))} | ${f3(rate(jb))} | ${f3(rate(either))} |`);
  }
}

// The shipped weights (trained on all rows plus the training-only negatives) through the default policy.
const guardrail = createGuardrail(guardrailConfigSchema.parse({}));
const policy = guardrail.resolve({ path: "/v1/chat/completions", model: undefined, tenant: undefined });
console.log("\nShipped weights through the default policy (all filters, request side, chat body):\n");
console.log("| prompts | blocked | rate | blocked as PROMPT_INJECTION | examples |");
console.log("|---|---:|---:|---:|---|");
for (const set of benignSets) {
  const blocked: string[] = [];
  let byAttack = 0;
  for (const text of set.texts) {
    const body = new TextEncoder().encode(JSON.stringify({ model: "m", messages: [{ role: "user", content: text }] }));
    const outcome = guardrail.inspectBody("request", body, policy, createPlaceholderRegistry());
    if (outcome.inspection.action !== "block") continue;
    blocked.push(text);
    if (outcome.inspection.findings.some((f) => f.type === "PROMPT_INJECTION" && f.action === "block")) byAttack++;
  }
  const examples = blocked
    .slice(0, 3)
    .map((t) => JSON.stringify(t.slice(0, 60)))
    .join("; ");
  console.log(
    `| ${set.name} | ${blocked.length} | ${f3(blocked.length / set.texts.length)} | ${byAttack} | ${examples.replaceAll("|", "\\|")} |`,
  );
}
console.log(
  "\n(The shipped jailbreak model was trained on the jackhhao benign prompts, so only the PROMPT_INJECTION column is held out on that row.)",
);
