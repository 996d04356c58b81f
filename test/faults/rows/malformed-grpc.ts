/**
 * Row 1, malformed gRPC: broken framing, lying prefixes, messages out of order, streams
 * that never speak, connections that never finish the handshake, clients that never read,
 * and streams reset as fast as they open (HTTP/2 Rapid Reset, CVE-2023-44487).
 */

import { once } from "node:events";
import { connect as connectTcp, type Socket } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { ProcessingRequestSchema } from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import {
  type CaseResult,
  count,
  emptyTally,
  type Form,
  type RowResult,
  type ServiceProcess,
  sleep,
  timed,
  underWitness,
  witnessP99BudgetMs,
} from "../harness.js";
import {
  answerOf,
  Code,
  codeName,
  connectH2,
  grpcFrame,
  openProcess,
  type RawAnswer,
  rawCall,
  sentGoaway,
} from "../raw-grpc.js";

const encode = (init: Parameters<typeof create<typeof ProcessingRequestSchema>>[1]) =>
  Buffer.from(toBinary(ProcessingRequestSchema, create(ProcessingRequestSchema, init)));

const requestHeaders = encode({
  request: {
    case: "requestHeaders",
    value: { headers: { headers: [{ key: ":path", rawValue: Buffer.from("/v1/chat/completions") }] } },
  },
});
const requestBody = encode({
  request: { case: "requestBody", value: { body: Buffer.from('{"model":"m","messages":[]}'), endOfStream: true } },
});
const responseHeaders = encode({ request: { case: "responseHeaders", value: { headers: { headers: [] } } } });

interface SimpleCase {
  readonly name: string;
  readonly expected: string;
  readonly frames: readonly Buffer[];
  readonly end?: boolean;
  readonly headers?: Record<string, string>;
  readonly ok: (answer: RawAnswer) => boolean;
}

const status = (code: number) => (a: RawAnswer) => a.kind === "status" && a.code === code;
/** A reply arrived and the stream stays open for the client to end (the normal exchange). */
const replied = (a: RawAnswer) => a.kind === "hung" && a.replies >= 1;

const simpleCases: readonly SimpleCase[] = [
  {
    name: "garbage message (0xff x 64: unterminated varint)",
    expected: "INVALID_ARGUMENT",
    frames: [grpcFrame(Buffer.alloc(64, 0xff))],
    ok: status(Code.INVALID_ARGUMENT),
  },
  {
    name: "garbage message (wire type 7)",
    expected: "INVALID_ARGUMENT",
    frames: [grpcFrame(Buffer.from([0x0f, 1, 2]))],
    ok: status(Code.INVALID_ARGUMENT),
  },
  {
    name: "truncated length prefix (3 of 5 bytes)",
    expected: "INVALID_ARGUMENT",
    frames: [Buffer.from([0, 0, 0])],
    ok: status(Code.INVALID_ARGUMENT),
  },
  {
    name: "truncated message (10 of 100 bytes)",
    expected: "INVALID_ARGUMENT",
    frames: [grpcFrame(Buffer.alloc(10), { declaredLength: 100 })],
    ok: status(Code.INVALID_ARGUMENT),
  },
  {
    name: "compressed flag without grpc-encoding",
    expected: "INTERNAL",
    frames: [grpcFrame(requestHeaders, { compressed: true })],
    ok: status(Code.INTERNAL),
  },
  {
    name: "compressed flag with grpc-encoding: gzip",
    expected: "UNIMPLEMENTED",
    frames: [grpcFrame(requestHeaders, { compressed: true })],
    headers: { "grpc-encoding": "gzip" },
    ok: status(Code.UNIMPLEMENTED),
  },
  {
    name: "100 MB length prefix, 10 bytes sent, stream left open",
    expected: "RESOURCE_EXHAUSTED at once",
    frames: [grpcFrame(Buffer.alloc(10), { declaredLength: 100 * 1024 * 1024 })],
    end: false,
    ok: status(Code.RESOURCE_EXHAUSTED),
  },
  {
    name: "request body before request headers (headers SKIPped)",
    expected: "a body reply",
    frames: [grpcFrame(requestBody)],
    end: false,
    ok: replied,
  },
  {
    name: "response headers before any request message",
    expected: "a headers reply",
    frames: [grpcFrame(responseHeaders)],
    end: false,
    ok: replied,
  },
  {
    name: "two request_headers",
    expected: "INVALID_ARGUMENT (after the first reply, if the service answers headers at once)",
    frames: [grpcFrame(requestHeaders), grpcFrame(requestHeaders)],
    end: false,
    ok: (a) => a.kind === "status" && a.code === Code.INVALID_ARGUMENT && a.replies <= 1,
  },
  {
    name: "empty stream (END_STREAM with no message)",
    expected: "OK, no reply",
    frames: [],
    ok: (a) => a.kind === "status" && a.code === Code.OK && a.replies === 0,
  },
  {
    name: "empty message (no request field)",
    expected: "INVALID_ARGUMENT",
    frames: [grpcFrame(Buffer.alloc(0))],
    end: false,
    ok: status(Code.INVALID_ARGUMENT),
  },
  {
    name: "wrong content-type (application/json)",
    expected: "HTTP 415",
    frames: [grpcFrame(requestHeaders)],
    headers: { "content-type": "application/json" },
    ok: (a) => a.kind === "http" && a.status === 415,
  },
];

const describe = (a: RawAnswer) =>
  a.kind === "status" ? `${codeName(a.code)} (${a.message}) after ${a.replies} replies` : JSON.stringify(a);

async function runSimpleCases(proc: ServiceProcess, repeats: number): Promise<CaseResult[]> {
  const session = await connectH2(`http://127.0.0.1:${proc.port}`);
  const results: CaseResult[] = [];
  try {
    for (const c of simpleCases) {
      const from = performance.now();
      const tally = emptyTally();
      let detail: string | undefined;
      const answers = await Promise.all(
        Array.from({ length: repeats }, () =>
          rawCall(session, { frames: c.frames, end: c.end, headers: c.headers, deadlineMs: 1500 }),
        ),
      );
      for (const a of answers) {
        const outcome = c.ok(a) ? "answered" : a.kind === "hung" ? "hung" : a.kind === "lost" ? "lost" : "errored";
        count(tally, outcome);
        if (outcome !== "answered") detail ??= describe(a);
      }
      results.push({ name: c.name, expected: c.expected, tally, detail, window: { from, to: performance.now() } });
    }
  } finally {
    session.close();
  }
  return results;
}

/** Streams that open and never send: kept open (no reset, no status) until the client leaves. */
async function idleStreams(proc: ServiceProcess, streams: number, holdMs: number): Promise<CaseResult> {
  const connections = 4;
  const sessions = await Promise.all(
    Array.from({ length: connections }, () => connectH2(`http://127.0.0.1:${proc.port}`)),
  );
  const tally = emptyTally();
  // Opened at 5,000 a second (100 every 20 ms), as a busy proxy would, not in one burst:
  // the row is about holding them.
  const answers: Promise<RawAnswer>[] = [];
  for (let i = 0; i < streams; i++) {
    answers.push(answerOf(openProcess(sessions[i % connections]!), holdMs));
    if (i % 100 === 99) await sleep(20);
  }
  const settled = await Promise.all(answers);
  for (const a of settled) count(tally, a.kind === "hung" && a.replies === 0 ? "answered" : "errored");
  const fdsHeld = proc.fds();
  for (const s of sessions) {
    s.destroy();
    await sleep(20);
  }
  return {
    name: `${streams} idle streams on ${connections} connections (opened at 5,000/s), held ${holdMs} ms`,
    expected: "held open, no reply, no reset",
    tally,
    detail: `server fds while held: ${fdsHeld}`,
  };
}

/**
 * Slowloris: TCP connections that never send the HTTP/2 preface, and sessions whose client
 * grants no flow-control window, so no reply can be written.
 */
async function silentConnections(proc: ServiceProcess, connections: number, holdMs: number): Promise<CaseResult> {
  const sockets: Socket[] = [];
  for (let i = 0; i < connections; i++) {
    const socket = connectTcp(proc.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.resume(); // read, so the server's close shows as the end of the stream
    sockets.push(socket);
  }
  await Promise.all(sockets.map((s) => once(s, "connect").catch(() => {})));
  await sleep(holdMs);
  const tally = emptyTally();
  // Documented: the server keeps the socket until its idle timeout; either way it must not
  // crash or stop serving. A still-open or server-closed socket both count as handled.
  // The suite runs services with a short handshakeTimeoutMs, so every socket must be gone.
  for (const s of sockets) count(tally, s.readableEnded || s.destroyed ? "answered" : "hung");
  const closedByServer = sockets.filter((s) => s.readableEnded || s.destroyed).length;
  for (const s of sockets) s.destroy();
  return {
    name: `${connections} TCP connections that never send the preface, held ${holdMs} ms`,
    expected: "no effect on others; closed after server.http2.handshakeTimeoutMs",
    tally,
    detail: `${closedByServer} closed by the server`,
  };
}

async function zeroWindowStreams(proc: ServiceProcess, streams: number, holdMs: number): Promise<CaseResult> {
  // The client grants the server no stream window: replies queue in the server.
  const session = await connectH2(`http://127.0.0.1:${proc.port}`, { settings: { initialWindowSize: 0 } });
  const tally = emptyTally();
  // Small bodies: the case is about replies that cannot be written, not about scanning cost.
  const bigBody = encode({
    request: { case: "requestBody", value: { body: Buffer.alloc(4 * 1024, 0x61), endOfStream: true } },
  });
  const opened = Array.from({ length: streams }, () => {
    const s = openProcess(session);
    s.write(grpcFrame(requestHeaders));
    s.write(grpcFrame(bigBody));
    return answerOf(s, holdMs);
  });
  for (const a of await Promise.all(opened)) count(tally, a.kind === "hung" ? "answered" : "errored");
  session.destroy();
  return {
    name: `${streams} streams with a zero flow-control window, held ${holdMs} ms`,
    expected: "replies wait for window; others unaffected",
    tally,
  };
}

/** HTTP/2 Rapid Reset: HEADERS then RST_STREAM, as fast as the client can. */
async function rapidReset(proc: ServiceProcess, streams: number): Promise<CaseResult> {
  const session = await connectH2(`http://127.0.0.1:${proc.port}`);
  const tally = emptyTally();
  let sent = 0;
  // The attacker reconnects after each GOAWAY, as a real one would.
  let current = session;
  let connections = 1;
  while (sent < streams) {
    if (current.destroyed || current.closed || sentGoaway(current)) {
      current.destroy();
      current = await connectH2(`http://127.0.0.1:${proc.port}`);
      connections++;
    }
    const s = openProcess(current);
    s.close(8); // CANCEL
    sent++;
    if (sent % 100 === 0) await sleep(0);
  }
  current.destroy();
  // Every reset is "answered" when the server stayed up; the witness measures the effect.
  for (let i = 0; i < sent; i++) count(tally, "answered");
  return {
    name: `Rapid Reset: ${streams} streams opened and cancelled, reconnecting after GOAWAY`,
    expected: "GOAWAY ENHANCE_YOUR_CALM past server.http2.earlyResetBurst; others unaffected",
    tally,
    detail: `${connections} connections used`,
  };
}

export async function malformedGrpcRow(proc: ServiceProcess, form: Form): Promise<RowResult> {
  const full = form === "full";
  return underWitness(
    "1. Malformed gRPC",
    proc,
    async () => [
      ...(await runSimpleCases(proc, full ? 200 : 20)),
      await timed(() => idleStreams(proc, 2000, full ? 10_000 : 2000)),
      await timed(() => silentConnections(proc, full ? 1000 : 200, full ? 10_000 : 1000)),
      await timed(() => zeroWindowStreams(proc, full ? 200 : 50, full ? 5000 : 1000)),
      await timed(() => rapidReset(proc, full ? 50_000 : 5000)),
    ],
    { witnessBudgetMs: witnessP99BudgetMs },
  );
}
