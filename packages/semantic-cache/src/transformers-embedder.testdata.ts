import {
  floatInitializer,
  floatOutput,
  int64Input,
  intAttribute,
  onnxModel,
  onnxNode,
  writeModelFolder,
} from "@llm-callouts/tiny-models";

/**
 * Writes a tiny BERT-shaped sentence-embedding model into `dir`, so the
 * transformers embedder is tested end to end without downloading weights:
 * `onnx/model.onnx` (input_ids, attention_mask, token_type_ids -> last_hidden_state
 * = Gather(embeddings, input_ids), 8 dims), a WordPiece tokenizer and config.
 */
export function writeTinyBert(dir: string): void {
  const dim = 8;
  const table: number[] = [];
  for (let i = 0; i < VOCAB.length; i++) for (let d = 0; d < dim; d++) table.push(Math.sin((i + 1) * (d + 1)));
  const model = onnxModel({
    producer: "semantic-cache-test",
    graphName: "tiny-bert",
    nodes: [onnxNode("Gather", ["embeddings", "input_ids"], ["last_hidden_state"], [intAttribute("axis", 0)])],
    initializers: [floatInitializer("embeddings", [VOCAB.length, dim], table)],
    inputs: ["input_ids", "attention_mask", "token_type_ids"].map(int64Input),
    outputs: [floatOutput("last_hidden_state", ["batch", "sequence", dim])],
  });
  writeModelFolder(dir, {
    model,
    vocab: VOCAB,
    config: { model_type: "bert", hidden_size: dim, vocab_size: VOCAB.length },
    maxLength: 32,
  });
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
