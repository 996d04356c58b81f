/**
 * Row 4, cache isolation: a generated matrix of request pairs (A fills the cache, B differs
 * from A in one thing that must keep them apart: tenant missing, cased, padded, look-alike,
 * repeated or other; model, temperature, system prompt, prior turn, tools, response format).
 * B must never be answered from A's entry. Every tenth pair repeats A exactly, which must
 * hit: the positive control that shows the cache was caching at all. Only A requests store
 * `answer-of-pair-*` answers, so any such answer to a B is a cross hit.
 */
import { createEnvoyClient, type ExchangeResult, type FilterConfig } from "@llm-callouts/envoy-emulator";
import { seededRandom } from "@llm-callouts/random";
import {
  type CaseResult,
  chatCompletionAnswer,
  count,
  emptyTally,
  type Form,
  type RowResult,
  type ServiceProcess,
  timed,
  underWitness,
} from "../harness.js";

/** The cache as deploy/envoy/envoy.yaml configures its filter. */
const filter: FilterConfig = {
  processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SEND", responseBodyMode: "NONE" },
  allowModeOverride: true,
  messageTimeoutMs: 10_000,
};

/** The `service:` section of the cache under test: a trusted tenant header. */
export const cacheIsolationConfig = "service:\n  tenant:\n    header: x-tenant-id\n";

interface Request {
  readonly headers: [string, string][];
  readonly body: Record<string, unknown>;
}

type Variant = { readonly name: string; readonly apply: (a: Request, i: number) => Request };

const withTenant = (r: Request, values: readonly string[]): Request => ({
  headers: [
    ...r.headers.filter(([n]) => n !== "x-tenant-id"),
    ...values.map((v): [string, string] => ["x-tenant-id", v]),
  ],
  body: r.body,
});
const tenantOf = (r: Request) => r.headers.find(([n]) => n === "x-tenant-id")?.[1] ?? "";
const withBody = (r: Request, change: Record<string, unknown>): Request => ({
  headers: r.headers,
  body: { ...r.body, ...change },
});

/** Look-alikes: Cyrillic а/е/о for Latin a/e/o, fullwidth digits. */
const lookAlike = (s: string) =>
  s
    .replace(/a/g, "\u0430")
    .replace(/e/g, "\u0435")
    .replace(/o/g, "\u043e")
    .replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));

const variants: readonly Variant[] = [
  { name: "tenant header missing", apply: (a) => withTenant(a, []) },
  { name: "tenant in other casing", apply: (a) => withTenant(a, [tenantOf(a).toUpperCase()]) },
  { name: "tenant with whitespace", apply: (a) => withTenant(a, [`${tenantOf(a)}\t`]) },
  { name: "tenant with unicode look-alikes", apply: (a) => withTenant(a, [lookAlike(tenantOf(a))]) },
  // Another tenant's client adds A's tenant before its own (a proxy appending after it).
  { name: "tenant header repeated", apply: (a, i) => withTenant(a, [tenantOf(a), `intruder-${i}`]) },
  { name: "another tenant", apply: (a, i) => withTenant(a, [`other-${i}`]) },
  { name: "another model", apply: (a) => withBody(a, { model: "Qwen/Qwen2.5-7B-Instruct" }) },
  { name: "another temperature", apply: (a) => withBody(a, { temperature: 0.2 }) },
  {
    name: "another system prompt",
    apply: (a) =>
      withBody(a, {
        messages: [{ role: "system", content: "Answer in French." }, ...(a.body.messages as unknown[])],
      }),
  },
  {
    name: "another prior turn",
    apply: (a) =>
      withBody(a, {
        messages: [
          { role: "user", content: "Hello." },
          { role: "assistant", content: "Hi." },
          ...(a.body.messages as unknown[]),
        ],
      }),
  },
  {
    name: "tools added",
    apply: (a) =>
      withBody(a, {
        tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }],
      }),
  },
  { name: "response format json_object", apply: (a) => withBody(a, { response_format: { type: "json_object" } }) },
];

const topics = ["capital", "population", "currency", "language", "climate", "history", "flag", "anthem", "cuisine"];
const places = ["France", "Japan", "Brazil", "Kenya", "Canada", "Norway", "Peru", "India", "Egypt", "Chile", "Spain"];

function baseRequest(i: number, random: () => number): Request {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  return {
    headers: [
      [":method", "POST"],
      [":path", "/v1/chat/completions"],
      ["content-type", "application/json"],
      ["x-tenant-id", `tenant-${i % 37}-acme`],
    ],
    body: {
      model: "meta-llama/Llama-3.1-8B-Instruct",
      temperature: 0,
      // A question of its own per pair (the number), so pairs never share entries.
      messages: [{ role: "user", content: `What is the ${pick(topics)} of ${pick(places)}? (case ${i})` }],
    },
  };
}

const answerOf = (i: number) => `answer-of-pair-${i}`;

const isHit = (r: ExchangeResult) =>
  r.immediateResponse !== undefined ||
  (r.downstream.headers.find(([n]) => n === "x-cache-status")?.[1] ?? "").startsWith("HIT");

export async function cacheIsolationRow(proc: ServiceProcess, form: Form): Promise<RowResult> {
  const pairs = form === "full" ? 10_000 : 1_200;
  // Envoy resets every ext_proc stream it ends; under Node 20, whose nghttp2 keeps its default
  // Rapid Reset budget (about 1,000 resets, see server.ts streamResetLimits), the connection
  // then gets GOAWAY. Node 22+ (the images' 24) applies the SDK's limits; here a new connection
  // every 300 pairs stays under the budget.
  let client = createEnvoyClient(`127.0.0.1:${proc.port}`);
  const random = seededRandom(19);
  const send = (r: Request, answer: string) =>
    client.exchange(filter, {
      request: { headers: r.headers, body: [JSON.stringify(r.body)] },
      upstream: chatCompletionAnswer(r.body.model, answer),
    });
  try {
    return await underWitness("4. Cache isolation", proc, async () => {
      const byVariant = new Map(variants.map((v) => [v.name, emptyTally()]));
      const firstLeak = new Map<string, string>();
      const control = emptyTally();
      const run = await timed(async () => {
        for (let i = 0; i < pairs; i++) {
          if (i > 0 && i % 300 === 0) {
            client.close();
            client = createEnvoyClient(`127.0.0.1:${proc.port}`);
          }
          const a = baseRequest(i, random);
          const variant = variants[i % variants.length]!;
          const fill = await send(a, answerOf(i));
          if (fill.error) throw new Error(`fill ${i} failed: ${fill.error.message}`);
          const b = await send(variant.apply(a, i), `fresh-${i}`);
          const tally = byVariant.get(variant.name)!;
          // Only A requests store `answer-of-pair-*`, and no B shares a partition with any A, so
          // such an answer to B is a cross hit. (A B may hit another B of its own partition.)
          const body = Buffer.from(b.downstream.body).toString();
          const leaked = body.includes("answer-of-pair-");
          count(tally, b.error || leaked ? "errored" : "answered");
          if ((leaked || b.error) && !firstLeak.has(variant.name))
            firstLeak.set(variant.name, `pair ${i}: ${b.error?.message ?? body.slice(0, 120)}`);
          if (i % 10 === 0) {
            const again = await send(a, `refill-${i}`);
            count(
              control,
              isHit(again) && Buffer.from(again.downstream.body).toString().includes(answerOf(i))
                ? "answered"
                : "errored",
            );
          }
        }
        return { name: "matrix", expected: "", tally: emptyTally() };
      });
      const cases: CaseResult[] = variants.map((v) => ({
        name: `B differs from A: ${v.name}`,
        expected: "no hit on A's entry",
        tally: byVariant.get(v.name)!,
        detail: firstLeak.get(v.name),
        window: run.window,
      }));
      cases.push({
        name: "control: A repeated exactly (every tenth pair)",
        expected: "hit, with A's answer",
        tally: control,
        window: run.window,
      });
      return cases;
    });
  } finally {
    client.close();
  }
}
