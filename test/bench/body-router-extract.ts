/**
 * body-router/extract-model: time to find the top-level `model` of a chat request body
 * with the targeted scanner vs `JSON.parse` (with and without the UTF-8 decode a router
 * starting from bytes must do), and body-router/rewrite-model: scan + splice vs decode +
 * parse + set + stringify + encode. Seeded fixtures; prints markdown tables.
 *
 *   node --import tsx test/bench/body-router-extract.ts [--filter 1mb] [--model-first]
 *   node --cpu-prof --cpu-prof-dir=.cache/prof --import tsx test/bench/body-router-extract.ts --filter 1mb
 */

import { seededRandom } from "@llm-callouts/random";
import { scanModel } from "../../packages/body-router/src/model-scanner.js";
import { rewriteModel } from "../../packages/body-router/src/rewrite-model.js";

const sizes = [
  { name: "1kb", bytes: 1024, iterations: 20_000 },
  { name: "100kb", bytes: 100 * 1024, iterations: 2_000 },
  { name: "1mb", bytes: 1024 * 1024, iterations: 200 },
  { name: "10mb", bytes: 10 * 1024 * 1024, iterations: 20 },
];

const args = process.argv.slice(2);
const filterIndex = args.indexOf("--filter");
const filter = filterIndex >= 0 ? new RegExp(args[filterIndex + 1] ?? "") : undefined;
const modelFirst = args.includes("--model-first");

const words = [
  "the",
  "model",
  "prompt",
  "token",
  "λόγος",
  "数据",
  "gateway",
  "route",
  'say "hi"',
  "tab\there",
  "line\n",
];

/** A chat completion body of about `size` bytes: many messages, `model` after them (worst case for a scan). */
function fixture(size: number, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  const messages: { role: string; content: string }[] = [];
  let length = 0;
  while (length < size - 200) {
    let content = "";
    const target = Math.min(4096, size - 200 - length);
    while (content.length < target) content += `${words[Math.floor(rand() * words.length)]} `;
    messages.push({ role: messages.length % 2 === 0 ? "user" : "assistant", content });
    length += JSON.stringify(messages.at(-1)).length + 1;
  }
  const body = modelFirst
    ? { model: "meta-llama/Llama-3.1-8B-Instruct", messages, temperature: 0.7, stream: true }
    : { messages, temperature: 0.7, stream: true, model: "meta-llama/Llama-3.1-8B-Instruct" };
  return new TextEncoder().encode(JSON.stringify(body));
}

function measure(iterations: number, fn: () => unknown): { p50: number; p99: number; mean: number } {
  for (let k = 0; k < Math.min(iterations, 50); k++) fn(); // warm-up
  const samples = new Float64Array(iterations);
  for (let k = 0; k < iterations; k++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples[k] = Number(process.hrtime.bigint() - t0);
  }
  samples.sort();
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number;
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

const ms = (ns: number) => (ns / 1e6).toFixed(ns < 1e5 ? 4 : 3);
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const rows: string[] = [];
const rewriteRows: string[] = [];
for (const { name, bytes, iterations } of sizes) {
  if (filter && !filter.test(name)) continue;
  const body = fixture(bytes, 42);
  const scan = scanModel(body);
  if (!("value" in scan)) throw new Error(`fixture ${name} did not scan`);
  const text = decoder.decode(body);
  const scanStats = measure(iterations, () => scanModel(body));
  const parseStats = measure(iterations, () => (JSON.parse(decoder.decode(body)) as { model: string }).model);
  const parseOnly = measure(iterations, () => (JSON.parse(text) as { model: string }).model);
  rows.push(
    `| body-router/extract-model/${name} | ${body.length} | ${ms(scanStats.p50)} | ${ms(scanStats.p99)} | ` +
      `${ms(parseStats.p50)} | ${ms(parseStats.p99)} | ${ms(parseOnly.p50)} | ` +
      `${(parseStats.p50 / scanStats.p50).toFixed(1)}x | ${(scanStats.p50 / body.length).toFixed(2)} |`,
  );
  const splice = measure(iterations, () => {
    const found = scanModel(body);
    return "value" in found ? rewriteModel(body, found.value, "llama-3.1-70b-canary") : body;
  });
  const reserialise = measure(iterations, () => {
    const parsed = JSON.parse(decoder.decode(body)) as { model: string };
    parsed.model = "llama-3.1-70b-canary";
    return encoder.encode(JSON.stringify(parsed));
  });
  rewriteRows.push(
    `| body-router/rewrite-model/${name} | ${ms(splice.p50)} | ${ms(splice.p99)} | ${ms(reserialise.p50)} | ` +
      `${ms(reserialise.p99)} | ${(reserialise.p50 / splice.p50).toFixed(1)}x |`,
  );
}

console.log(`Node ${process.version}, model ${modelFirst ? "first" : "last"} in the body\n`);
console.log(
  "| case | bytes | scan p50 ms | scan p99 ms | decode+JSON.parse p50 ms | decode+JSON.parse p99 ms | JSON.parse only p50 ms | speed-up (p50) | scan ns/byte (p50) |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const row of rows) console.log(row);
console.log("\n| case | scan + splice p50 ms | p99 ms | parse + stringify p50 ms | p99 ms | speed-up (p50) |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const row of rewriteRows) console.log(row);

// The two 1 MB shapes, `model` last: one long prompt, and 2,000 messages of ~500 bytes.
// Strict (JSON.parse's grammar) vs lenient (`strict: false`) next to JSON.parse and the machine's
// limit for touching a megabyte once (Buffer.indexOf of a byte that is not there).
function singlePrompt(size: number): Uint8Array {
  const rand = seededRandom(7);
  let content = "";
  while (content.length < size - 200) content += `${words[Math.floor(rand() * words.length)]} `;
  return encoder.encode(JSON.stringify({ messages: [{ role: "user", content }], model: "m-1" }));
}
function manyMessages(count: number, each: number): Uint8Array {
  const rand = seededRandom(11);
  const messages = Array.from({ length: count }, (_, k) => {
    let content = "";
    while (content.length < each - 40) content += `${words[Math.floor(rand() * words.length)]} `;
    return { role: k % 2 === 0 ? "user" : "assistant", content };
  });
  return encoder.encode(JSON.stringify({ messages, model: "m-1" }));
}
/** Prose with one escape (a newline) per ~1,000-byte line: what most prompts look like. */
const line = `${"The gateway routes each request to the replica with the most free KV cache. ".repeat(13)}\n`;
function prose(size: number): string {
  let text = "";
  while (text.length < size) text += line;
  return text;
}
const shapeRows: string[] = [];
for (const [name, body] of [
  ["1 MB single prompt, escape-dense words", singlePrompt(1024 * 1024)],
  ["1 MB, 2,000 messages, escape-dense words", manyMessages(2000, 520)],
  [
    "1 MB single prompt, prose",
    encoder.encode(JSON.stringify({ messages: [{ role: "user", content: prose(1_000_000) }], model: "m-1" })),
  ],
  [
    "1 MB, 2,000 messages, prose",
    encoder.encode(
      JSON.stringify({
        messages: Array.from({ length: 2000 }, (_, k) => ({
          role: k % 2 ? "assistant" : "user",
          content: line.slice(0, 480),
        })),
        model: "m-1",
      }),
    ),
  ],
] as const) {
  if (filter && !filter.test(name)) continue;
  for (const strict of [true, false]) {
    const found = scanModel(body, { strict });
    if (!("value" in found) || found.value.model !== "m-1") throw new Error(`${name} did not scan`);
  }
  const strict = measure(300, () => scanModel(body));
  const lenient = measure(300, () => scanModel(body, { strict: false }));
  const parse = measure(100, () => (JSON.parse(decoder.decode(body)) as { model: string }).model);
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const touch = measure(300, () => buf.indexOf(0x01));
  shapeRows.push(
    `| ${name} | ${body.length} | ${ms(strict.p50)} | ${ms(lenient.p50)} | ${ms(lenient.p99)} | ${ms(parse.p50)} | ${ms(touch.p50)} | ${(parse.p50 / lenient.p50).toFixed(1)}x |`,
  );
}
if (shapeRows.length > 0) {
  console.log(
    "\n| body (model last) | bytes | strict scan p50 ms | lenient scan p50 ms | lenient p99 ms | decode+JSON.parse p50 ms | Buffer.indexOf p50 ms | lenient vs JSON.parse |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of shapeRows) console.log(row);
}
