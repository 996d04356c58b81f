/**
 * gRPC by hand on `node:http2`, for sending what no gRPC library would: broken frames,
 * lying length prefixes, compressed flags without an encoding, streams that never speak.
 */

import { once } from "node:events";
import { type ClientHttp2Session, type ClientHttp2Stream, connect, type SecureClientSessionOptions } from "node:http2";

export const processPath = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";

/** A gRPC length-prefixed message (flag byte, 4-byte big-endian length, bytes). */
export function grpcFrame(
  message: Uint8Array,
  options: { compressed?: boolean; declaredLength?: number } = {},
): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = options.compressed ? 1 : 0;
  prefix.writeUInt32BE(options.declaredLength ?? message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** What came back on one stream. */
export type RawAnswer =
  | { readonly kind: "status"; readonly code: number; readonly message: string; readonly replies: number }
  | { readonly kind: "http"; readonly status: number }
  | { readonly kind: "lost"; readonly reason: string }
  /** No status before the deadline; `replies` messages had arrived by then. */
  | { readonly kind: "hung"; readonly replies: number };

const goneAway = new WeakSet<ClientHttp2Session>();
/** True once the server sent this session GOAWAY. */
export const sentGoaway = (session: ClientHttp2Session) => goneAway.has(session);

export async function connectH2(
  authority: string,
  options: SecureClientSessionOptions = {},
): Promise<ClientHttp2Session> {
  const session = connect(authority, options);
  session.on("error", () => {});
  session.on("goaway", () => goneAway.add(session));
  await once(session, "connect");
  return session;
}

export interface RawCallOptions {
  /** Frames written in order (each a separate DATA write). */
  readonly frames?: readonly Buffer[];
  /** End the request side after the frames (default true). */
  readonly end?: boolean;
  readonly deadlineMs?: number;
  readonly headers?: Record<string, string>;
}

/** Opens a Process stream, writes `frames`, and reports how the server ended it. */
export function rawCall(session: ClientHttp2Session, options: RawCallOptions = {}): Promise<RawAnswer> {
  const stream = openProcess(session, options.headers);
  for (const frame of options.frames ?? []) stream.write(frame);
  if (options.end !== false) stream.end();
  return answerOf(stream, options.deadlineMs ?? 3000);
}

export function openProcess(session: ClientHttp2Session, headers: Record<string, string> = {}): ClientHttp2Stream {
  const stream = session.request({
    ":method": "POST",
    ":path": processPath,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
  });
  stream.on("error", () => {});
  return stream;
}

/** Reads `stream` to its end: the gRPC status (headers or trailers), an HTTP status, a reset, or nothing. */
export function answerOf(stream: ClientHttp2Stream, deadlineMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let replies = 0;
    let httpStatus = 0;
    let pending: Buffer = Buffer.alloc(0);
    let settled = false;
    const done = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (answer.kind === "hung" && !stream.destroyed) stream.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done({ kind: "hung", replies }), deadlineMs);
    const fromHeaders = (headers: Record<string, unknown>) => {
      const code = headers["grpc-status"];
      if (code === undefined) return false;
      const message = decodeURIComponent(String(headers["grpc-message"] ?? ""));
      done({ kind: "status", code: Number(code), message, replies });
      return true;
    };
    stream.on("response", (headers) => {
      httpStatus = Number(headers[":status"]);
      if (!fromHeaders(headers) && httpStatus !== 200) done({ kind: "http", status: httpStatus });
    });
    stream.on("data", (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        pending = pending.subarray(5 + pending.readUInt32BE(1));
        replies++;
      }
    });
    stream.on("trailers", (headers) => fromHeaders(headers));
    stream.on("close", () => {
      if (httpStatus !== 0 && httpStatus !== 200) return done({ kind: "http", status: httpStatus });
      done({ kind: "lost", reason: `closed with rst code ${stream.rstCode}` });
    });
  });
}

/** gRPC status codes by name, for readable expectations. */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  FAILED_PRECONDITION: 9,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export const codeName = (code: number) =>
  Object.entries(Code).find(([, value]) => value === code)?.[0] ?? `code ${code}`;
