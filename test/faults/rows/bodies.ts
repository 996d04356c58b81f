/**
 * Row 2, bodies: what a client can put in a request body, sent the way Envoy sends it
 * (BUFFERED, through the Envoy-faithful client), to each body-reading callout. Each case
 * also reads the service's CPU time and peak RSS (VmHWM) from /proc around it.
 */
import { readFileSync } from "node:fs";
import { brotliCompressSync, deflateSync, gzipSync, constants as zlibConstants } from "node:zlib";
import { createEnvoyClient, type ExchangeResult, type FilterConfig } from "@llm-callouts/envoy-emulator";
import {
  type CaseResult,
  count,
  emptyTally,
  type Form,
  type RowResult,
  type ServiceProcess,
  timed,
  underWitness,
} from "../harness.js";

const filter: FilterConfig = {
  processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SKIP" },
  messageTimeoutMs: 10_000,
  exchangeTimeoutMs: 20_000,
};

const chat = (content: string, extra = "") =>
  `{"model":"meta-llama/Llama-3.1-8B-Instruct","messages":[{"role":"user","content":${JSON.stringify(content)}}]${extra}}`;

/** What the service did with one request, for the per-case expectation. */
type Verdict = "passed" | `status ${number}` | `error ${string}`;

function verdictOf(result: ExchangeResult): Verdict {
  if (result.error) return `error ${result.error.kind}: ${result.error.message}`;
  if (result.immediateResponse) return `status ${result.immediateResponse.status}`;
  return result.upstream ? "passed" : `status ${result.downstream.status}`;
}

const is4xx = (v: Verdict) => /^status 4\d\d$/.test(v);
/** The rule for bad bodies everywhere: a clear 4xx, or through untouched. Never a 5xx or an error. */
const passOr4xx = (v: Verdict) => v === "passed" || is4xx(v);

interface BodyCase {
  readonly name: string;
  readonly expected: string;
  readonly headers?: Record<string, string>;
  readonly body: () => Uint8Array;
  /** Per service: does this verdict meet the documented rule? */
  readonly ok: (service: string, v: Verdict) => boolean;
}

let zeroGzipMember: Buffer | undefined;
/** `megabytes` MiB of zeros as concatenated gzip members (RFC 1952 allows many): cheap to build. */
function gzipOfZeros(megabytes: number): Buffer {
  zeroGzipMember ??= gzipSync(Buffer.alloc(10 * 1024 * 1024), { level: 9 });
  const members = Math.ceil(megabytes / 10);
  return Buffer.concat(Array.from({ length: members }, () => zeroGzipMember!));
}

const memo = <T>(make: () => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

/** Services that decode content-encoding themselves; the others must not pass an encoded body unread. */
const decoders = new Set(["body-router", "guardrail"]);

function bombCases(bombMb: number): BodyCase[] {
  const bomb = (encoding: string, body: () => Uint8Array, decodedMb: number): BodyCase => ({
    name: `${encoding} bomb: ${decodedMb} MiB of zeros in ${(body().length / 1024).toFixed(0)} KiB`,
    expected: "413 where decoded (never decoded past the limit); a 4xx or pass elsewhere",
    headers: { "content-encoding": encoding },
    body,
    ok: (service, v) => (decoders.has(service) ? v === "status 413" : passOr4xx(v)),
  });
  const big = bombMb * 1024 * 1024;
  return [
    {
      name: "gzip: 10 MiB of zeros in 10 KiB (within the limit)",
      expected: "decoded, then the service's answer to 10 MiB of zeros (not JSON): a 4xx or pass",
      headers: { "content-encoding": "gzip" },
      body: memo(() => gzipOfZeros(10)),
      ok: (_, v) => passOr4xx(v),
    },
    bomb(
      "gzip",
      memo(() => gzipOfZeros(bombMb)),
      bombMb,
    ),
    bomb(
      "deflate",
      memo(() => deflateSync(Buffer.alloc(big), { level: 9 })),
      bombMb,
    ),
    bomb(
      "br",
      memo(() => brotliCompressSync(Buffer.alloc(big), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } })),
      bombMb,
    ),
    bomb(
      "gzip, gzip",
      memo(() => gzipSync(gzipOfZeros(bombMb))),
      bombMb,
    ),
  ];
}

function bodyCases(form: Form): BodyCase[] {
  return [
    {
      name: "not JSON",
      expected: "a 4xx or pass",
      body: () => Buffer.from("hello, this is not json"),
      ok: (_, v) => passOr4xx(v),
    },
    {
      name: "invalid UTF-8 inside a JSON string",
      expected: "a 4xx or pass",
      body: () =>
        Buffer.concat([Buffer.from(chat("abc").slice(0, -4)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]),
      ok: (_, v) => passOr4xx(v),
    },
    {
      name: "1 MiB of one character",
      expected: "a 4xx or pass",
      body: memo(() => Buffer.alloc(1024 * 1024, 0x61)),
      ok: (_, v) => passOr4xx(v),
    },
    {
      name: "JSON nested 100,000 deep",
      expected: "a 4xx or pass",
      body: memo(() => Buffer.from(`{"model":"m","messages":${"[".repeat(100_000)}${"]".repeat(100_000)}}`)),
      ok: (_, v) => passOr4xx(v),
    },
    {
      name: "10 MiB chat request, BUFFERED",
      expected: "a 4xx (413 past a limit) or pass",
      body: memo(() => Buffer.from(chat("x".repeat(10 * 1024 * 1024)))),
      ok: (_, v) => passOr4xx(v),
    },
    {
      name: "duplicated model key",
      expected: "400 at the body router (duplicateModel: reject); a 4xx or pass elsewhere",
      body: () => Buffer.from(`{"model":"a","model":"b","messages":[]}`),
      ok: (service, v) => (service === "body-router" ? v === "status 400" : passOr4xx(v)),
    },
    {
      name: "model nested in another object and escaped (m\\u006fdel)",
      expected: "a 4xx or pass",
      body: () => Buffer.from(`{"x":{"model":"evil"},"m\\u006fdel":"meta-llama/Llama-3.1-8B-Instruct","messages":[]}`),
      ok: (_, v) => passOr4xx(v),
    },
    {
      name: "unknown content-encoding (zstd)",
      expected: "415 at the guardrail (it must not pass a body it cannot read); a 4xx or pass elsewhere",
      headers: { "content-encoding": "zstd" },
      body: () => Buffer.from("(\xb5/\xfd garbage", "latin1"),
      ok: (service, v) => (service === "guardrail" ? v === "status 415" : passOr4xx(v)),
    },
    {
      name: "corrupt gzip",
      expected: "400 where decoded; a 4xx or pass elsewhere",
      headers: { "content-encoding": "gzip" },
      body: () => Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4]),
      ok: (service, v) => (decoders.has(service) ? v === "status 400" : passOr4xx(v)),
    },
    ...bombCases(form === "full" ? 1024 : 256),
  ];
}

const maxCpuMsPerRequest = 1000;
/** Peak RSS may grow this much over the process's peak before the row (the bombs decode to 256 MiB or 1 GiB). */
const maxPeakGrowthMb = 160;

/** utime + stime of a process, in ms (from /proc/PID/stat; clock ticks assumed 100 Hz). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function peakRssMb(pid: number): number {
  const match = /^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

export async function bodiesRow(proc: ServiceProcess, form: Form): Promise<RowResult> {
  const repeats = form === "full" ? 5 : 1;
  const client = createEnvoyClient(`127.0.0.1:${proc.port}`);
  const pid = proc.child.pid!;
  const rssStart = peakRssMb(pid);
  try {
    return await underWitness("2. Bodies", proc, async () => {
      const results: CaseResult[] = [];
      for (const c of bodyCases(form)) {
        const body = c.body();
        results.push(
          await timed(async () => {
            const tally = emptyTally();
            let detail: string | undefined;
            const cpuBefore = cpuMs(pid);
            for (let i = 0; i < repeats; i++) {
              const result = await client.exchange(filter, {
                request: {
                  headers: {
                    ":method": "POST",
                    ":path": "/v1/chat/completions",
                    "content-type": "application/json",
                    ...c.headers,
                  },
                  body: [body],
                },
              });
              const v = verdictOf(result);
              const outcome = c.ok(proc.name, v) ? "answered" : v.startsWith("error timeout") ? "hung" : "errored";
              count(tally, outcome);
              if (outcome !== "answered" || detail === undefined) detail = v;
            }
            const cpu = (cpuMs(pid) - cpuBefore) / repeats;
            const peak = peakRssMb(pid);
            // Bounded work: one request may cost at most a second of CPU and must not take
            // memory near what a bomb would decode to.
            if (cpu > maxCpuMsPerRequest || peak - rssStart > maxPeakGrowthMb) {
              tally.answered = 0;
              tally.errored = tally.sent;
            }
            return {
              name: c.name,
              expected: c.expected,
              tally,
              detail: `${detail}; ${cpu.toFixed(0)} ms CPU per request; peak RSS ${peak.toFixed(0)} MiB`,
            };
          }),
        );
      }
      return results;
    });
  } finally {
    client.close();
  }
}
