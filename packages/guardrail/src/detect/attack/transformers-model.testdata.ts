import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes a tiny BERT-shaped sequence-classification model into `dir`, so the
 * transformers prompt-attack detector is tested end to end without downloading
 * weights: `onnx/model.onnx` (input_ids, attention_mask, token_type_ids -> logits
 * = ReduceMean(Gather(table, input_ids), axis 1), labels BENIGN / INJECTION /
 * JAILBREAK), a WordPiece `tokenizer.json`, `tokenizer_config.json` and
 * `config.json` with `id2label`. The ONNX protobuf is encoded by hand.
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
  const int64Input = (name: string) =>
    msg(field(1, str(name)), field(2, msg(field(1, msg(varintField(1, INT64), field(2, shape("batch", "sequence")))))));
  const graph = msg(
    field(
      1,
      msg(
        field(1, str("table")),
        field(1, str("input_ids")),
        field(2, str("token_logits")),
        field(4, str("Gather")),
        field(5, msg(field(1, str("axis")), varintField(3, 0), varintField(20, 2))),
      ),
    ),
    field(
      1,
      msg(
        field(1, str("token_logits")),
        field(2, str("logits")),
        field(4, str("ReduceMean")),
        field(5, msg(field(1, str("axes")), varintField(8, 1), varintField(20, 7))),
        field(5, msg(field(1, str("keepdims")), varintField(3, 0), varintField(20, 2))),
      ),
    ),
    field(2, str("tiny-classifier")),
    field(
      5,
      msg(
        varintField(1, VOCAB.length),
        varintField(1, 3),
        varintField(2, FLOAT),
        field(4, floats(table)),
        field(8, str("table")),
      ),
    ),
    field(11, int64Input("input_ids")),
    field(11, int64Input("attention_mask")),
    field(11, int64Input("token_type_ids")),
    field(
      12,
      msg(field(1, str("logits")), field(2, msg(field(1, msg(varintField(1, FLOAT), field(2, shape("batch", 3))))))),
    ),
  );
  const model = msg(
    varintField(1, 7),
    field(2, str("guardrail-test")),
    field(7, graph),
    field(8, msg(field(1, str("")), varintField(2, 13))),
  );
  mkdirSync(join(dir, "onnx"), { recursive: true });
  writeFileSync(join(dir, "onnx", "model.onnx"), model);
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      model_type: "bert",
      architectures: ["BertForSequenceClassification"],
      hidden_size: 3,
      vocab_size: VOCAB.length,
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    }),
  );
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ tokenizer_class: "BertTokenizer", do_lower_case: true, model_max_length: 64 }),
  );
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizer()));
}

const LABELS = ["BENIGN", "INJECTION", "JAILBREAK"];
const BENIGN = ["what", "is", "the", "capital", "of", "france", "?", "write", "a", "poem", "."];
const INJECTION = ["ignore", "previous", "instructions", "reveal", "secret"];
const JAILBREAK = ["unfiltered", "persona", "anything"];
const VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", ...BENIGN, ...INJECTION, ...JAILBREAK];
const FLOAT = 1;
const INT64 = 7;

function tokenizer() {
  const special = (id: number) => ({
    id,
    content: VOCAB[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2, 3].map(special),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((w, i) => [w, i])),
    },
  };
}

// ---- a minimal protobuf writer (varint and length-delimited fields only) ----

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const varintField = (n: number, value: number): Uint8Array => Uint8Array.from([...varint(n << 3), ...varint(value)]);
const field = (n: number, bytes: Uint8Array): Uint8Array =>
  Uint8Array.from([...varint((n << 3) | 2), ...varint(bytes.length), ...bytes]);
const str = (text: string): Uint8Array => new TextEncoder().encode(text);
const msg = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const floats = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
const shape = (...dims: (string | number)[]): Uint8Array =>
  msg(...dims.map((d) => field(1, typeof d === "number" ? varintField(1, d) : field(2, str(d)))));
