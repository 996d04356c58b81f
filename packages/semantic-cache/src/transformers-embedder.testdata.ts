import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes a tiny BERT-shaped sentence-embedding model into `dir`, so the
 * transformers embedder is tested end to end without downloading weights:
 * `onnx/model.onnx` (input_ids, attention_mask, token_type_ids -> last_hidden_state
 * = Gather(embeddings, input_ids), 8 dims), a WordPiece `tokenizer.json`,
 * `tokenizer_config.json` and `config.json`. The ONNX protobuf is encoded by hand.
 */
export function writeTinyBert(dir: string): void {
  const dim = 8;
  const table: number[] = [];
  for (let i = 0; i < VOCAB.length; i++) for (let d = 0; d < dim; d++) table.push(Math.sin((i + 1) * (d + 1)));
  const int64Input = (name: string) =>
    msg(field(1, str(name)), field(2, msg(field(1, msg(varintField(1, INT64), field(2, shape("batch", "sequence")))))));
  const graph = msg(
    field(
      1,
      msg(
        field(1, str("embeddings")),
        field(1, str("input_ids")),
        field(2, str("last_hidden_state")),
        field(4, str("Gather")),
        field(5, msg(field(1, str("axis")), varintField(3, 0), varintField(20, 2))),
      ),
    ),
    field(2, str("tiny-bert")),
    field(
      5,
      msg(
        varintField(1, VOCAB.length),
        varintField(1, dim),
        varintField(2, FLOAT),
        field(4, floats(table)),
        field(8, str("embeddings")),
      ),
    ),
    field(11, int64Input("input_ids")),
    field(11, int64Input("attention_mask")),
    field(11, int64Input("token_type_ids")),
    field(
      12,
      msg(
        field(1, str("last_hidden_state")),
        field(2, msg(field(1, msg(varintField(1, FLOAT), field(2, shape("batch", "sequence", dim)))))),
      ),
    ),
  );
  const model = msg(
    varintField(1, 7),
    field(2, str("semantic-cache-test")),
    field(7, graph),
    field(8, msg(field(1, str("")), varintField(2, 13))),
  );
  mkdirSync(join(dir, "onnx"), { recursive: true });
  writeFileSync(join(dir, "onnx", "model.onnx"), model);
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ model_type: "bert", hidden_size: dim, vocab_size: VOCAB.length }),
  );
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ tokenizer_class: "BertTokenizer", do_lower_case: true, model_max_length: 32 }),
  );
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizer()));
}

const VOCAB = [
  "[PAD]",
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "how",
  "do",
  "i",
  "reset",
  "my",
  "password",
  "can",
  "bake",
  "bread",
  "?",
];
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
