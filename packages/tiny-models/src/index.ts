import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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
const floats = (values: readonly number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
/** TensorShapeProto: numbers are fixed dims, strings symbolic ones. */
const shape = (...dims: (string | number)[]): Uint8Array =>
  msg(...dims.map((d) => field(1, typeof d === "number" ? varintField(1, d) : field(2, str(d)))));

/** Protobuf field writers, for graph pieces the helpers below do not cover. */
export const pb = { varintField, field, str, msg, floats, shape };

/** ONNX TensorProto.DataType values used here. */
export const onnxType = { FLOAT: 1, INT64: 7 } as const;

/** ValueInfoProto of an int64 [batch, sequence] input (input_ids, attention_mask, token_type_ids). */
export function int64Input(name: string): Uint8Array {
  return msg(
    field(1, str(name)),
    field(2, msg(field(1, msg(varintField(1, onnxType.INT64), field(2, shape("batch", "sequence")))))),
  );
}

/** ValueInfoProto of a float output. */
export function floatOutput(name: string, dims: (string | number)[]): Uint8Array {
  return msg(
    field(1, str(name)),
    field(2, msg(field(1, msg(varintField(1, onnxType.FLOAT), field(2, shape(...dims)))))),
  );
}

/** TensorProto initializer of floats with the given dims. */
export function floatInitializer(name: string, dims: readonly number[], values: readonly number[]): Uint8Array {
  return msg(
    ...dims.map((d) => varintField(1, d)),
    varintField(2, onnxType.FLOAT),
    field(4, floats(values)),
    field(8, str(name)),
  );
}

/** An int attribute (AttributeProto type INT = 2). */
export const intAttribute = (name: string, value: number) =>
  msg(field(1, str(name)), varintField(3, value), varintField(20, 2));
/** An ints attribute (AttributeProto type INTS = 7). */
export const intsAttribute = (name: string, values: readonly number[]) =>
  msg(field(1, str(name)), ...values.map((v) => varintField(8, v)), varintField(20, 7));

/** NodeProto: inputs, outputs, operator type, attributes. */
export function onnxNode(
  op: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Uint8Array[] = [],
): Uint8Array {
  return msg(
    ...inputs.map((i) => field(1, str(i))),
    ...outputs.map((o) => field(2, str(o))),
    field(4, str(op)),
    ...attributes.map((a) => field(5, a)),
  );
}

/** ModelProto (IR version 7, opset 13) around a graph of nodes, initializers, inputs and outputs. */
export function onnxModel(parts: {
  producer: string;
  graphName: string;
  nodes: Uint8Array[];
  initializers: Uint8Array[];
  inputs: Uint8Array[];
  outputs: Uint8Array[];
}): Uint8Array {
  const graph = msg(
    ...parts.nodes.map((n) => field(1, n)),
    field(2, str(parts.graphName)),
    ...parts.initializers.map((i) => field(5, i)),
    ...parts.inputs.map((i) => field(11, i)),
    ...parts.outputs.map((o) => field(12, o)),
  );
  return msg(
    varintField(1, 7),
    field(2, str(parts.producer)),
    field(7, graph),
    field(8, msg(field(1, str("")), varintField(2, 13))),
  );
}

/** A BERT WordPiece tokenizer.json; `vocab` must start with [PAD], [UNK], [CLS], [SEP]. */
export function wordPieceTokenizer(vocab: readonly string[]) {
  const special = (id: number) => ({
    id,
    content: vocab[id],
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
      vocab: Object.fromEntries(vocab.map((w, i) => [w, i])),
    },
  };
}

/** Writes the folder `from_pretrained` expects: onnx/model.onnx, config.json, tokenizer files. */
export function writeModelFolder(
  dir: string,
  parts: { model: Uint8Array; vocab: readonly string[]; config: object; maxLength: number },
): void {
  mkdirSync(join(dir, "onnx"), { recursive: true });
  writeFileSync(join(dir, "onnx", "model.onnx"), parts.model);
  writeFileSync(join(dir, "config.json"), JSON.stringify(parts.config));
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ tokenizer_class: "BertTokenizer", do_lower_case: true, model_max_length: parts.maxLength }),
  );
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(wordPieceTokenizer(parts.vocab)));
}
