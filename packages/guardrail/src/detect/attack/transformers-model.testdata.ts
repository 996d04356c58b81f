import {
  floatInitializer,
  floatOutput,
  int64Input,
  intAttribute,
  intsAttribute,
  onnxModel,
  onnxNode,
  writeModelFolder,
} from "@llm-callouts/tiny-models";

/**
 * Writes a tiny BERT-shaped sequence-classification model into `dir`, so the
 * transformers prompt-attack detector is tested end to end without downloading
 * weights: `onnx/model.onnx` (input_ids, attention_mask, token_type_ids -> logits
 * = ReduceMean(Gather(table, input_ids), axis 1), labels BENIGN / INJECTION /
 * JAILBREAK), a WordPiece `tokenizer.json`, `tokenizer_config.json` and
 * `config.json` with `id2label`.
 *
 * Each known word adds a logit of 4 to its class (benign words 2), special and
 * unknown tokens 0, so a text's probabilities are a softmax of the mean over
 * its tokens, including [CLS] and [SEP]: tests compute expected values exactly.
 */
export function writeTinyClassifier(dir: string, labels: readonly string[] = LABELS): void {
  const table: number[] = [];
  for (const word of VOCAB) {
    const row = [0, 0, 0];
    if (BENIGN.includes(word)) row[0] = 2;
    if (INJECTION.includes(word)) row[1] = 4;
    if (JAILBREAK.includes(word)) row[2] = 4;
    table.push(...row);
  }
  const model = onnxModel({
    producer: "guardrail-test",
    graphName: "tiny-classifier",
    nodes: [
      onnxNode("Gather", ["table", "input_ids"], ["token_logits"], [intAttribute("axis", 0)]),
      onnxNode("ReduceMean", ["token_logits"], ["logits"], [intsAttribute("axes", [1]), intAttribute("keepdims", 0)]),
    ],
    initializers: [floatInitializer("table", [VOCAB.length, 3], table)],
    inputs: ["input_ids", "attention_mask", "token_type_ids"].map(int64Input),
    outputs: [floatOutput("logits", ["batch", 3])],
  });
  writeModelFolder(dir, {
    model,
    vocab: VOCAB,
    config: {
      model_type: "bert",
      architectures: ["BertForSequenceClassification"],
      hidden_size: 3,
      vocab_size: VOCAB.length,
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    },
    maxLength: 64,
  });
}

const LABELS = ["BENIGN", "INJECTION", "JAILBREAK"];
const BENIGN = ["what", "is", "the", "capital", "of", "france", "?", "write", "a", "poem", "."];
const INJECTION = ["ignore", "previous", "instructions", "reveal", "secret"];
const JAILBREAK = ["unfiltered", "persona", "anything"];
const VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", ...BENIGN, ...INJECTION, ...JAILBREAK];
