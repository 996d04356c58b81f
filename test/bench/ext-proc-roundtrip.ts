/**
 * ext_proc round trips through `callouts serve echo` (a separate process) with a lean
 * @grpc/grpc-js client at fixed concurrency, next to two peers in their own processes: a bare
 * grpc-js echo (bare-grpc-echo.ts) and a framing-only node:http2 floor (http2-floor-echo.ts):
 * requests/s, p50/p99 latency and each server's CPU per request (from /proc). A second table: headers-only round trips
 * carrying a W3C traceparent with tracing off, on (every stream exported over OTLP/HTTP to a
 * sink in this process) and sampled at 1%.
 *
 *   node --import tsx test/bench/ext-proc-roundtrip.ts [--seconds N] [--rounds N] [--no-tracing]
 *     [--servers lean,bare,floor,connect] [--case NAME] [--server-node-args "..."]
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
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

const argValue = (flag: string) =>
  process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined;
const seconds = Number(argValue("--seconds") ?? 5);
/** `--servers lean,bare` and `--case 1 MB` narrow a run (profiling, quick checks). */
const serverFilter = argValue("--servers")?.split(",");
const caseFilter = argValue("--case");
/** `--rounds N`: each server measured N times, taking turns (default 3). */
const rounds = Number(argValue("--rounds") ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../../packages/cli/dist/main.js");
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
  /** Headers, then `body` in FULL_DUPLEX_STREAMED chunks of 64 KB. */
  const duplexExchange = (body: Buffer) => {
    const chunks = Math.ceil(body.length / 65536);
    return [
      encode(
        create(ProcessingRequestSchema, {
          request: { case: "requestHeaders", value: { headers, endOfStream: false } },
          protocolConfig: { requestBodyMode: ProcessingMode_BodySendMode.FULL_DUPLEX_STREAMED },
        }),
      ),
      ...Array.from({ length: chunks }, (_, i) =>
        encode(
          create(ProcessingRequestSchema, {
            request: {
              case: "requestBody",
              value: { body: body.subarray(i * 65536, (i + 1) * 65536), endOfStream: i === chunks - 1 },
            },
          }),
        ),
      ),
    ];
  };
  const duplex = duplexExchange(Buffer.alloc(1024 * 1024, 0x62));
  // A chat request of one ~1 MB prose prompt, `model` last: what the body router routes on.
  const prose = "The quick brown fox jumps over the lazy dog. ".repeat(23_300);
  const chat = duplexExchange(
    Buffer.from(JSON.stringify({ messages: [{ role: "user", content: prose }], model: "llama-3-8b" })),
  );
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
    { name: "1 MB FULL_DUPLEX_STREAMED body", concurrency: 8, messages: duplex, isLast: streamedEnd },
    { name: "1 MB chat JSON, FULL_DUPLEX_STREAMED", concurrency: 8, messages: chat, isLast: streamedEnd },
  ];
}

/** The reply that carries the streamed body's end_of_stream. */
function streamedEnd(r: ReturnType<typeof decode>): boolean {
  const resp = r.response;
  if (resp.case !== "requestBody") return false;
  const m = resp.value.response?.bodyMutation?.mutation;
  return m?.case === "streamedResponse" && m.value.endOfStream;
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

function printRows(rows: string[][]): void {
  if (rows.length === 0) return;
  const where = pinned ? "server pinned to core 0, this load generator to core 1" : "not pinned (no taskset)";
  printTable(
    `ext_proc round trips: each server in its own process, a grpc-js load generator in another (${where}), ${seconds} s per case, median-CPU round of ${rounds}`,
    ["server", "case", "concurrency", "round trips/s", "p50 ms", "p99 ms", "server CPU µs/req", "server capacity/core"],
    rows,
  );
  const cost = (kind: string, name: string, concurrency: string) =>
    Number(rows.find((r) => r[0] === kind && r[1] === name && r[2] === concurrency)?.[6]);
  const ratios = rows
    .filter((r) => r[0] === "lean")
    .map((r) => [
      r[1]!,
      r[2]!,
      (cost("lean", r[1]!, r[2]!) / cost("bare grpc-js", r[1]!, r[2]!)).toFixed(2),
      (cost("lean", r[1]!, r[2]!) / cost("http2 floor", r[1]!, r[2]!)).toFixed(2),
    ]);
  printTable(
    "Server CPU per round trip of the lean SDK transport (`callouts serve echo`), same run",
    ["case", "concurrency", "/ bare grpc-js echo", "/ node:http2 framing-only floor"],
    ratios,
  );
  const routed = rows.filter((r) => r[0] === "body-router");
  if (routed.length > 0) {
    printTable(
      "Server CPU per request of `callouts serve body-router` (scan for `model`, held headers reply, body re-chunked) next to echo, same run",
      ["case", "concurrency", "body-router µs/req", "echo µs/req", "added by routing µs/req"],
      routed.map((r) => {
        const echo = cost("lean", r[1]!, r[2]!);
        return [r[1]!, r[2]!, r[6]!, String(echo), String(Number(r[6]) - echo)];
      }),
    );
  }
}

async function main() {
  let rows: string[][] = [];
  if (!process.argv.includes("--tracing-only")) {
    // Servers take turns, `rounds` times; each row is the round with the median server CPU, so
    // one noisy slice of a shared machine does not decide a ratio.
    const byKey = new Map<string, string[][]>();
    for (let round = 0; round < rounds; round++) {
      for (const kind of ["http2 floor", "bare grpc-js", "lean", "connect", "body-router"] as const) {
        if (serverFilter && !serverFilter.some((f) => kind.includes(f))) continue;
        for (const row of await runTransport(kind)) {
          const key = row.slice(0, 3).join("|");
          byKey.set(key, [...(byKey.get(key) ?? []), row]);
        }
      }
    }
    rows = [...byKey.values()].map((runs) => {
      const sorted = [...runs].sort((a, b) => Number(a[6]) - Number(b[6]));
      return sorted[Math.floor((sorted.length - 1) / 2)] as string[];
    });
  }
  if (process.argv.includes("--no-tracing")) {
    printRows(rows);
    return;
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
  printRows(rows);
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

type ServerKind = "http2 floor" | "bare grpc-js" | "lean" | "connect" | "body-router";

/** User + system CPU seconds of a process so far, from /proc (clock ticks of 1/100 s). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * With two or more cores and `taskset`, the server runs on core 0 and this process (the load
 * generator) on core 1, so neither steals the other's time and the server's CPU is its own.
 */
const pinned = availableParallelism() >= 2 && spawnSync("taskset", ["-cp", "1", String(process.pid)]).status === 0;

/** `--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles the servers. */
const serverNodeArgs = argValue("--server-node-args")?.split(" ") ?? [];

function startServer(kind: ServerKind, port: number, adminPort: number, env: Record<string, string>) {
  let command: string[];
  if (kind === "bare grpc-js" || kind === "http2 floor") {
    const script = kind === "bare grpc-js" ? "bare-grpc-echo.ts" : "http2-floor-echo.ts";
    command = [process.execPath, ...serverNodeArgs, "--import", "tsx", join(here, script), "--port", String(port)];
  } else if (kind === "body-router") {
    const args = [
      "serve",
      "body-router",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--admin-port",
      String(adminPort),
    ];
    command = [process.execPath, ...serverNodeArgs, cli, ...args, "--log-level", "warn"];
  } else {
    const config = join(mkdtempSync(join(tmpdir(), "bench-")), "echo.yaml");
    writeFileSync(config, `server:\n  processTransport: ${kind}\n`);
    const args = ["serve", "echo", "--host", "127.0.0.1", "--port", String(port), "--admin-port", String(adminPort)];
    command = [process.execPath, ...serverNodeArgs, cli, ...args, "--log-level", "warn", "--config", config];
  }
  if (pinned) command = ["taskset", "-c", "0", ...command];
  return spawn(command[0]!, command.slice(1), {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
}

async function waitReady(kind: ServerKind, port: number, adminPort: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (kind === "bare grpc-js" || kind === "http2 floor") {
        await new Promise<void>((resolve, reject) => {
          const socket = connect(port, "127.0.0.1", () => {
            socket.destroy();
            resolve();
          });
          socket.on("error", reject);
        });
        return;
      }
      if ((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${kind} server did not start`);
}

async function runTransport(
  kind: ServerKind,
  options: { env?: Record<string, string>; only?: (c: Case) => boolean } = {},
): Promise<string[][]> {
  const only =
    options.only ?? ((c: Case) => c.name !== "traced headers only" && (!caseFilter || c.name.includes(caseFilter)));
  const [port, adminPort] = [await freePort(), await freePort()];
  const server = startServer(kind, port, adminPort, options.env ?? {});
  try {
    await waitReady(kind, port, adminPort);
    // taskset execs the server, so the child's pid is the server's.
    const pid = server.pid as number;
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": -1,
    });
    const rows: string[][] = [];
    for (const c of buildCases().filter(only)) {
      if (kind === "connect" && c.concurrency === 1) continue;
      // The body router needs a JSON body; it runs the chat case only.
      if (kind === "body-router" && !c.name.includes("chat")) continue;
      // Warm up, then measure for a fixed wall time at fixed concurrency.
      await Promise.all(Array.from({ length: c.concurrency * 4 }, () => oneExchange(client, c)));
      const latencies: number[] = [];
      const cpuBefore = processCpuSeconds(pid);
      const deadline = Date.now() + seconds * 1000;
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: c.concurrency }, async () => {
          while (Date.now() < deadline) latencies.push(await oneExchange(client, c));
        }),
      );
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = processCpuSeconds(pid) - cpuBefore;
      latencies.sort((a, b) => a - b);
      const cpuMicros = (cpu / latencies.length) * 1e6;
      rows.push([
        kind,
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
