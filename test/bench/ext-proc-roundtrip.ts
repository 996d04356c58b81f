/**
 * ext_proc round trips through `callouts serve echo` (a separate process) with a lean
 * @grpc/grpc-js client at fixed concurrency: requests/s, p50/p99 added latency and the
 * server's CPU per request (from its own /metrics). A second table: headers-only round trips
 * carrying a W3C traceparent with tracing off, on (every stream exported over OTLP/HTTP to a
 * sink in this process) and sampled at 1%.
 *
 *   node --import tsx test/bench/ext-proc-roundtrip.ts [--seconds N]
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ProcessingMode_BodySendMode } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import {
  type ProcessingRequest,
  ProcessingRequestSchema,
  ProcessingResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { percentile, printTable } from "./stats.js";

const seconds = Number(process.argv.includes("--seconds") ? process.argv[process.argv.indexOf("--seconds") + 1] : 5);
const cli = join(dirname(fileURLToPath(import.meta.url)), "../../packages/cli/dist/main.js");
const encode = (m: ProcessingRequest) => Buffer.from(toBinary(ProcessingRequestSchema, m));

const headerPairs = [
  [":method", "POST"],
  [":path", "/v1/chat/completions"],
  [":authority", "gateway.local"],
  ["content-type", "application/json"],
  ["x-request-id", "6f1c2b1e-bench"],
];
const toHeaderMap = (pairs: string[][]) => ({
  headers: pairs.map(([key, value]) => ({ key: key!, rawValue: Buffer.from(value!) })),
});
const headers = toHeaderMap(headerPairs);
const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
const tracedHeaders = () => toHeaderMap([...headerPairs, ["traceparent", `00-${hex(32)}-${hex(16)}-01`]]);

interface Case {
  name: string;
  concurrency: number;
  /** Pre-encoded messages of one exchange. */
  messages: Buffer[];
  /** Variants used in turn instead of `messages` (distinct trace ids, so ratio sampling samples). */
  variants?: Buffer[][];
  /** The exchange is done when this predicate sees its last reply. */
  isLast(reply: ReturnType<typeof decode>, count: number): boolean;
}

const decode = (b: Buffer) => fromBinary(ProcessingResponseSchema, b);

function buildCases(): Case[] {
  const headersOnly = encode(
    create(ProcessingRequestSchema, { request: { case: "requestHeaders", value: { headers, endOfStream: true } } }),
  );
  const buffered = [
    encode(
      create(ProcessingRequestSchema, {
        request: { case: "requestHeaders", value: { headers, endOfStream: false } },
        protocolConfig: { requestBodyMode: ProcessingMode_BodySendMode.BUFFERED },
      }),
    ),
    encode(
      create(ProcessingRequestSchema, {
        request: { case: "requestBody", value: { body: Buffer.alloc(4096, 0x61), endOfStream: true } },
      }),
    ),
  ];
  const megabyte = Buffer.alloc(1024 * 1024, 0x62);
  const duplex = [
    encode(
      create(ProcessingRequestSchema, {
        request: { case: "requestHeaders", value: { headers, endOfStream: false } },
        protocolConfig: { requestBodyMode: ProcessingMode_BodySendMode.FULL_DUPLEX_STREAMED },
      }),
    ),
    ...Array.from({ length: 16 }, (_, i) =>
      encode(
        create(ProcessingRequestSchema, {
          request: {
            case: "requestBody",
            value: { body: megabyte.subarray(i * 65536, (i + 1) * 65536), endOfStream: i === 15 },
          },
        }),
      ),
    ),
  ];
  const traced = Array.from({ length: 4096 }, () => [
    encode(
      create(ProcessingRequestSchema, {
        request: { case: "requestHeaders", value: { headers: tracedHeaders(), endOfStream: true } },
      }),
    ),
  ]);
  return [
    {
      name: "traced headers only",
      concurrency: 64,
      messages: traced[0]!,
      variants: traced,
      isLast: (_r, n) => n === 1,
    },
    { name: "headers only", concurrency: 1, messages: [headersOnly], isLast: (_r, n) => n === 1 },
    { name: "headers only", concurrency: 64, messages: [headersOnly], isLast: (_r, n) => n === 1 },
    { name: "4 KB BUFFERED body", concurrency: 64, messages: buffered, isLast: (_r, n) => n === 2 },
    {
      name: "1 MB FULL_DUPLEX_STREAMED body",
      concurrency: 8,
      messages: duplex,
      isLast: (r) => {
        const resp = r.response;
        if (resp.case !== "requestBody") return false;
        const m = resp.value.response?.bodyMutation?.mutation;
        return m?.case === "streamedResponse" && m.value.endOfStream;
      },
    },
  ];
}

let variant = 0;

function oneExchange(client: grpc.Client, c: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const call = client.makeBidiStreamRequest(
      "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
      (b: Buffer) => b,
      decode,
    );
    let count = 0;
    call.on("data", (reply) => {
      count++;
      if (c.isLast(reply, count)) {
        call.end();
        resolve(Number(process.hrtime.bigint() - started) / 1e6);
      }
    });
    call.on("error", reject);
    const messages = c.variants ? c.variants[variant++ % c.variants.length]! : c.messages;
    for (const m of messages) call.write(m);
  });
}

async function serverCpuSeconds(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("callouts_process_cpu_seconds_total "));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address() as { port: number };
  s.close();
  return port;
}

/** An OTLP/HTTP receiver that answers 200 and counts the spans it is sent. */
async function startOtlpSink() {
  let spans = 0;
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    take: () => {
      const n = spans;
      spans = 0;
      return n;
    },
    close: () => server.close(),
  };
}

async function main() {
  const rows: string[][] = [];
  if (!process.argv.includes("--tracing-only")) {
    for (const transport of ["lean", "connect"] as const) rows.push(...(await runTransport(transport)));
  }
  const sink = await startOtlpSink();
  const otlp = { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: sink.url };
  const tracedCase = (c: Case) => c.name === "traced headers only";
  const tracingRows: string[][] = [];
  for (const [label, env] of [
    ["off", {}],
    ["on (always_on)", { ...otlp, OTEL_TRACES_SAMPLER: "always_on" }],
    [
      "sampled 1% (traceidratio 0.01)",
      { ...otlp, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.01" },
    ],
  ] as const) {
    sink.take();
    for (const row of await runTransport("lean", { env, only: tracedCase })) {
      tracingRows.push([label, ...row.slice(2), sink.take().toLocaleString("en-US")]);
    }
  }
  sink.close();
  if (rows.length > 0)
    printTable(
      `ext_proc round trips through \`callouts serve echo\` (its own process), grpc-js client in another, ${seconds} s per case`,
      [
        "transport",
        "case",
        "concurrency",
        "round trips/s",
        "p50 ms",
        "p99 ms",
        "server CPU µs/req",
        "server capacity/core",
      ],
      rows,
    );
  printTable(
    "Tracing overhead: headers-only round trips with a traceparent, lean transport, 64 streams",
    [
      "tracing",
      "concurrency",
      "round trips/s",
      "p50 ms",
      "p99 ms",
      "server CPU µs/req",
      "server capacity/core",
      "spans exported",
    ],
    tracingRows,
  );
}

async function runTransport(
  transport: "lean" | "connect",
  options: { env?: Record<string, string>; only?: (c: Case) => boolean } = {},
): Promise<string[][]> {
  const only = options.only ?? ((c: Case) => c.name !== "traced headers only");
  const [port, adminPort] = [await freePort(), await freePort()];
  const config = join(mkdtempSync(join(tmpdir(), "bench-")), "echo.yaml");
  writeFileSync(config, `server:\n  processTransport: ${transport}\n`);
  const args = ["serve", "echo", "--host", "127.0.0.1", "--port", String(port), "--admin-port", String(adminPort)];
  const server = spawn(process.execPath, [cli, ...args, "--log-level", "warn", "--config", config], {
    stdio: "inherit",
    env: { ...process.env, ...options.env },
  });
  try {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).ok) break;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": -1,
    });
    const rows: string[][] = [];
    for (const c of buildCases().filter(only)) {
      if (transport === "connect" && c.concurrency === 1) continue;
      // Warm up, then measure for a fixed wall time at fixed concurrency.
      await Promise.all(Array.from({ length: c.concurrency }, () => oneExchange(client, c)));
      const latencies: number[] = [];
      const cpuBefore = await serverCpuSeconds(adminPort);
      const deadline = Date.now() + seconds * 1000;
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: c.concurrency }, async () => {
          while (Date.now() < deadline) latencies.push(await oneExchange(client, c));
        }),
      );
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = (await serverCpuSeconds(adminPort)) - cpuBefore;
      latencies.sort((a, b) => a - b);
      const cpuMicros = (cpu / latencies.length) * 1e6;
      rows.push([
        transport,
        c.name,
        String(c.concurrency),
        Math.round(latencies.length / elapsed).toLocaleString("en-US"),
        percentile(latencies, 0.5).toFixed(2),
        percentile(latencies, 0.99).toFixed(2),
        cpuMicros.toFixed(0),
        `${Math.round(1e6 / cpuMicros).toLocaleString("en-US")}/s`,
      ]);
    }
    client.close();
    return rows;
  } finally {
    server.kill("SIGTERM");
    await once(server, "exit");
  }
}

await main();
