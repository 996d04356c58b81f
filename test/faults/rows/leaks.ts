/**
 * Row 6, leaks: requests and responses full of PII and secrets (in bodies, headers and the
 * model name) go through a callout running at debug level with traces exported; every log
 * line, the /metrics page, dynamic metadata, the headers the callout set, the exported
 * traces and the audit records are searched for the raw values. Zero may appear.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import { createEnvoyClient, type ExchangeResult } from "@llm-callouts/envoy-emulator";
import {
  type CaseResult,
  count,
  emptyTally,
  type Form,
  type RowResult,
  sleep,
  startUnderTest,
  underWitness,
} from "../harness.js";

/** Raw values that must never be seen outside the request and response themselves. */
export const secrets = {
  email: "jane.roe.leaktest@example.org",
  card: "4111 1111 1111 1111",
  cardDigits: "4111111111111111",
  ssn: "078-05-1120",
  openAiKey: "sk-proj-LeAkTeSt0123456789abcdefghijklmnopQRST",
  awsKeyId: "AKIAIOSFODNN7LEAKTST",
  awsSecret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYLEAKTESTKEY",
  bearer: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsZWFrdGVzdCJ9.c2lnbmF0dXJlbGVha3Rlc3Q",
  privateKeyBody: "MIIEowIBAAKCAQEAleaktestPRIVATEKEYBODY0123456789",
} as const;

const privateKey = `-----BEGIN RSA PRIVATE KEY-----\n${secrets.privateKeyBody}\n-----END RSA PRIVATE KEY-----`;
const prompt = [
  `Mail me at ${secrets.email}, card ${secrets.card}, SSN ${secrets.ssn}.`,
  `My key is ${secrets.openAiKey}; AWS ${secrets.awsKeyId} / ${secrets.awsSecret}.`,
  `Bearer ${secrets.bearer}`,
  privateKey,
].join("\n");

const requestHeaders = {
  ":method": "POST",
  ":path": "/v1/chat/completions",
  "content-type": "application/json",
  authorization: `Bearer ${secrets.bearer}`,
  "x-api-key": secrets.openAiKey,
  cookie: `session=${secrets.awsSecret}`,
};

/**
 * Model names are routing data, not content: they go into x-gateway-model-name, metadata,
 * metric labels (at most 100 distinct) and debug logs by design, as in GIE, so no secret is
 * put there.
 */
const bodies = () => [
  JSON.stringify({ model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: prompt }] }),
  JSON.stringify({ model: "meta-llama/Llama-3.1-8B-Instruct", prompt, max_tokens: 8 }),
  JSON.stringify({
    model: "meta-llama/Llama-3.1-8B-Instruct",
    messages: [
      { role: "system", content: `Key: ${secrets.openAiKey}` },
      { role: "user", content: "hi" },
    ],
    user: secrets.email,
  }),
];

const upstreamHeaders = { ":status": "200", "set-cookie": `s=${secrets.awsSecret}` };

const responseBody = JSON.stringify({
  id: "chatcmpl-leak",
  object: "chat.completion",
  model: "meta-llama/Llama-3.1-8B-Instruct",
  choices: [{ index: 0, message: { role: "assistant", content: prompt }, finish_reason: "stop" }],
});

/** A local OTLP/HTTP receiver: keeps every exported payload (protobuf carries strings raw). */
async function startTraceSink() {
  const payloads: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      payloads.push(Buffer.concat(chunks));
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    payloads,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Which raw values `text` contains. */
export function leaked(text: string): string[] {
  return Object.entries(secrets)
    .filter(([, value]) => text.includes(value))
    .map(([name]) => name);
}

function surfaces(result: ExchangeResult): Record<string, string> {
  return {
    "dynamic metadata": JSON.stringify(result.dynamicMetadata),
    // Headers the callout set: the downstream response's minus what the upstream sent, and the
    // upstream request's minus what the client sent.
    "response headers": JSON.stringify(
      result.downstream.headers.filter(([name, value]) => (upstreamHeaders as Record<string, string>)[name] !== value),
    ),
    "added request headers": JSON.stringify(
      (result.upstream?.headers ?? []).filter(
        ([name, value]) => (requestHeaders as Record<string, string>)[name] !== value,
      ),
    ),
    // Error replies (a cache hit's reply is the cached response itself, which may hold anything).
    "error replies": result.downstream.status >= 400 ? Buffer.from(result.downstream.body).toString() : "",
  };
}

export async function leaksRow(service: string, form: Form): Promise<RowResult> {
  const sink = await startTraceSink();
  const under = await startUnderTest(service, {
    server: "server:\n  logLevel: debug\n",
    env: {
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sink.url,
      OTEL_TRACES_SAMPLER: "always_on",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    },
  });
  const proc = under.proc;
  const client = createEnvoyClient(`127.0.0.1:${proc.port}`);
  const filter = {
    processingMode: { requestBodyMode: "BUFFERED", responseBodyMode: "BUFFERED" },
    messageTimeoutMs: 10_000,
    receivingNamespaces: [
      "com.llm-callouts.body-router",
      "com.llm-callouts.guardrail",
      "com.llm-callouts.semantic-cache",
      "envoy.lb",
    ],
  } as const;
  try {
    const result = await underWitness("6. Leaks", proc, async () => {
      const found = new Map<string, Set<string>>();
      const note = (surface: string, text: string) => {
        for (const name of leaked(text)) {
          const set = found.get(surface) ?? new Set<string>();
          set.add(name);
          found.set(surface, set);
        }
      };
      const tally = emptyTally();
      const carried = new Set<string>();
      const rounds = form === "full" ? 20 : 2;
      for (let round = 0; round < rounds; round++) {
        for (const body of bodies()) {
          for (const contentType of ["application/json", "text/event-stream"]) {
            const exchange = await client.exchange(filter, {
              request: { headers: requestHeaders, body: [body] },
              upstream: {
                headers: { ...upstreamHeaders, "content-type": contentType },
                body: [
                  contentType === "application/json"
                    ? responseBody
                    : `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: prompt } }] })}\n\ndata: [DONE]\n\n`,
                ],
              },
            });
            count(tally, exchange.error ? "errored" : "answered");
            // Positive control: the values did flow through (so a search that finds none means something).
            for (const name of leaked(
              Buffer.concat([exchange.upstream?.body ?? new Uint8Array(), exchange.downstream.body]).toString(),
            ))
              carried.add(name);
            for (const [surface, text] of Object.entries(surfaces(exchange))) note(surface, text);
          }
        }
      }
      const metrics = await (await fetch(`http://127.0.0.1:${proc.adminPort}/metrics`)).text();
      note("/metrics", metrics);
      await sleep(600); // the batch span processor's delay, then the export
      note("traces", Buffer.concat(sink.payloads).toString("latin1"));
      note("logs (debug level, audit records included)", proc.output.join("\n"));
      const control = emptyTally();
      count(control, carried.size > 0 ? "answered" : "errored");
      const cases: CaseResult[] = [
        {
          name: "control: raw values reach the upstream or the client (the search can see them)",
          expected: "found in the request or response itself",
          tally: control,
          detail: [...carried].join(", "),
        },
        {
          name: `${tally.sent} exchanges with PII and secrets in request and response bodies and headers`,
          expected: "answered",
          tally,
        },
      ];
      for (const surface of [
        "logs (debug level, audit records included)",
        "/metrics",
        "dynamic metadata",
        "response headers",
        "added request headers",
        "error replies",
        "traces",
      ]) {
        const names = [...(found.get(surface) ?? [])];
        const t = emptyTally();
        count(t, names.length === 0 ? "answered" : "errored");
        const size =
          surface === "traces"
            ? `${sink.payloads.length} OTLP exports`
            : surface.startsWith("logs")
              ? `${proc.output.length} lines`
              : "";
        cases.push({
          name: `raw values in ${surface}`,
          expected: "none",
          tally: t,
          detail: names.length > 0 ? `found: ${names.join(", ")}` : size,
        });
      }
      return cases;
    });
    return result;
  } finally {
    client.close();
    await under.close();
    await sink.close();
  }
}
